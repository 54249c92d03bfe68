"""CSV import parsing and export rendering for transactions."""

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation

from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError

from money.amounts import format_amount, parse_amount
from server.exceptions import PayloadTooLarge
from server.fields import ChoiceField
from transactions.models import Kind

IMPORT_COLUMNS = ("date", "amount", "kind", "category", "payee", "description", "notes")
# Optional: who paid (an email) and who it was for ("a@x; b@x", or with weights "a@x:2; b@x:1"),
# among the members of the household the request names; paid_by alone splits among them all.
SPLIT_COLUMNS = ("paid_by", "split_with")
MAX_WEIGHT = Decimal("1000000")
TEXT_COLUMNS = ("category", "payee", "description", "notes")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
# Zip (xlsx, ods) and OLE2 (xls) containers: a spreadsheet renamed .csv.
_SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

EXPORT_COLUMNS = (
    "id",
    "date",
    "budget_id",
    "budget",
    "currency",
    "kind",
    "amount",
    "category",
    "payee",
    "description",
    "notes",
    "created_by",
)
# The export's columns an import reads no value from: a transaction's id and author are the
# import's own, and its budget is the one the request names. The currency is checked instead.
IGNORED_EXPORT_COLUMNS = ("id", "budget_id", "budget", "created_by")
ACCEPTED_COLUMNS = frozenset((*IMPORT_COLUMNS, *SPLIT_COLUMNS, "currency", *IGNORED_EXPORT_COLUMNS))
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _RowFields(serializers.Serializer):
    date = serializers.DateField()
    kind = ChoiceField(choices=Kind.choices)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    payee = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


def read_upload(upload) -> str:
    """The uploaded file as text, or a 4xx naming what is wrong with it."""
    if upload.size > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.", code="file_too_large"
        )
    raw = upload.read()
    if raw.startswith(_SPREADSHEET_MAGIC):
        raise ParseError(
            "This looks like a spreadsheet, not a CSV file; export it as CSV first.", code="not_csv"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParseError(
            "The file is not UTF-8 encoded text; save it as CSV UTF-8.", code="invalid_encoding"
        ) from None
    if "\x00" in text:
        raise ParseError("The file contains NUL bytes; it is not a CSV text file.", code="not_csv")
    return text


def parse_rows(text: str, *, currency: str) -> tuple[list[tuple[int, dict]], list[dict]]:
    """-> ([(line, row)], [errors]). Lines count from 1 (the header)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ParseError(f"The file is not valid CSV: {exc}", code="not_csv") from None
    names = [h.strip().lower() for h in header or []]
    _check_header(names)
    # Count the rows before validating any: an oversized file is refused at once, and the
    # limit counts rows, not the errors they produce.
    # A row's line is the file line it starts on (the header is line 1); reader.line_num is
    # the line it ends on, later when a quoted cell holds a line break.
    records = []
    start = reader.line_num + 1
    try:
        for values in reader:
            if any(v.strip() for v in values):
                records.append((start, values))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ParseError(
            f"The file is not valid CSV near line {reader.line_num}: {exc}", code="not_csv"
        ) from None
    if len(records) > MAX_IMPORT_ROWS:
        raise PayloadTooLarge(f"The file has more than {MAX_IMPORT_ROWS} rows.", code="too_many_rows")
    rows, errors = [], []
    for line, values in records:
        if len(values) != len(names):
            errors.append(
                _error(line, None, "invalid_row", f"Expected {len(names)} cells, found {len(values)}.")
            )
            continue
        cells = dict(zip(names, values, strict=True))
        row, row_errors = _parse_row(cells, currency=currency, line=line)
        if row_errors:
            errors.extend(row_errors)
        else:
            rows.append((line, row))
    return rows, errors


# DRF's fields, bound once: building a serializer per row deep-copies every field and
# cost most of a 50,000-row import. Each cell takes a fast path that accepts exactly what
# its field accepts, with the same result; anything else goes through the field itself, so
# every error keeps DRF's code and message.
_FIELDS = _RowFields().fields
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_KINDS = frozenset(Kind.values)
_TEXT_LIMITS = {name: field.max_length for name, field in _FIELDS.items() if hasattr(field, "max_length")}


def _fast(name: str, value: str):
    """The field's value for a cell it certainly accepts, else _SLOW."""
    if name == "date":
        if _ISO_DATE.match(value):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                return _SLOW
        return _SLOW
    if name == "kind":
        return value if value in _KINDS else _SLOW
    # Text: the file has no NUL (read_upload) and strict UTF-8 has no surrogates, so the
    # length is the only rule a cell can break.
    return value if len(value) <= _TEXT_LIMITS[name] else _SLOW


_SLOW = object()


def _check_header(names: list[str]) -> None:
    """Every import column once; the export's other columns may be there too, nothing else."""
    missing = [name for name in IMPORT_COLUMNS if name not in names]
    unknown = sorted({name for name in names if name not in ACCEPTED_COLUMNS})
    repeated = sorted({name for name in names if names.count(name) > 1})
    if not (missing or unknown or repeated):
        return
    problems = [
        *(["missing: " + ", ".join(missing)] if missing else []),
        *(["unknown: " + ", ".join(name or "(blank)" for name in unknown)] if unknown else []),
        *(["repeated: " + ", ".join(repeated)] if repeated else []),
    ]
    extra = ", ".join(c for c in EXPORT_COLUMNS if c in ACCEPTED_COLUMNS and c not in IMPORT_COLUMNS)
    raise ParseError(
        f"The first line must name the columns {', '.join(IMPORT_COLUMNS)}, once each, in any order; "
        f"an export's other columns ({extra}) and the split columns ({', '.join(SPLIT_COLUMNS)}) may "
        f"be there too. This file's header has "
        f"{'; '.join(problems)}.",
        code="invalid_header",
    )


def _parse_row(cells: dict, *, currency: str, line: int) -> tuple[dict, list[dict]]:
    errors = []
    data = {}
    for name, field in _FIELDS.items():
        value = cells[name].strip()
        if name in TEXT_COLUMNS:
            value = unneutralise(value)
        parsed = _fast(name, value)
        if parsed is _SLOW:
            try:
                parsed = field.run_validation(value)
            except serializers.ValidationError as exc:
                errors.extend(_error(line, name, d.code, str(d)) for d in exc.detail)
                continue
        data[name] = parsed
    stated = cells.get("currency", "").strip()
    amount_minor = None
    if stated and stated.upper() != currency:
        # The amount is written in another currency's units: not judged, never converted.
        errors.append(
            _error(
                line,
                "currency",
                "currency_mismatch",
                f"This row is in {stated}; the budget's amounts are in {currency}.",
            )
        )
    else:
        try:
            amount_minor = parse_amount(cells["amount"].strip(), currency)
        except serializers.ValidationError as exc:
            errors.extend(_error(line, "amount", d.code, str(d)) for d in exc.detail)
    split, split_errors = _parse_split(cells, line)
    errors.extend(split_errors)
    if errors:
        return {}, errors
    return {
        "split": split,
        "date": data["date"],
        "kind": data["kind"],
        "amount_minor": amount_minor,
        "category_name": data["category"] or None,
        "payee": data["payee"],
        "description": data["description"],
        "notes": data["notes"],
    }, []


_WEIGHT = re.compile(r"^[0-9]{1,7}(\.[0-9]{1,4})?$")


def _parse_split(cells: dict, line: int) -> tuple[dict | None, list[dict]]:
    """The optional split columns -> {"paid_by": email, "members": [(email, weight|None)]}
    (emails lower-cased; no members: all of the household's), or None when both are blank."""
    paid_by = cells.get("paid_by", "").strip().lower()
    listed = cells.get("split_with", "").strip()
    if not (paid_by or listed):
        return None, []
    if not paid_by:
        return None, [
            _error(line, "paid_by", "required", "Say who paid (an email) for a row split with others.")
        ]
    members, errors = [], []
    for part in (p.strip() for p in listed.split(";")):
        if not part:
            continue
        email, _, weight = part.partition(":")
        email, weight = email.strip().lower(), weight.strip()
        if weight:
            try:
                parsed = Decimal(weight) if _WEIGHT.match(weight) else None
            except InvalidOperation:
                parsed = None
            if parsed is None or not 0 < parsed < MAX_WEIGHT:
                errors.append(
                    _error(
                        line,
                        "split_with",
                        "invalid",
                        f'"{part}": a weight is a positive number, e.g. "a@x.com:2".',
                    )
                )
                continue
            members.append((email, parsed))
        else:
            members.append((email, None))
    if errors:
        return None, errors
    weighted = {weight is not None for _, weight in members}
    if len(weighted) > 1:
        return None, [_error(line, "split_with", "invalid", "Give every member a weight, or none of them.")]
    if len({email for email, _ in members}) != len(members):
        return None, [_error(line, "split_with", "duplicate_member", "Each member appears once in a split.")]
    return {"paid_by": paid_by, "members": members}, []


def _error(line: int, field: str | None, code: str, detail: str) -> dict:
    return {"line": line, "field": field, "code": code, "detail": detail}


def errors_as_validation_error(errors: list[dict]) -> ValidationError:
    """Import errors in the standard body: attr "<line>.<field>"."""
    detail: dict = {}
    for e in errors:
        key = f"{e['line']}.{e['field']}" if e["field"] else str(e["line"])
        detail.setdefault(key, []).append(serializers.ErrorDetail(e["detail"], code=e["code"]))
    return ValidationError(detail)


def neutralise(cell: str) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ (or tab/CR) is
    prefixed with a quote so spreadsheets show it as text. So is a cell that already
    starts with quotes before one of those, so that unneutralise() can tell the two apart
    and a round trip through the import gives back every text exactly."""
    return "'" + cell if cell.lstrip("'").startswith(_FORMULA_PREFIXES) else cell


def unneutralise(cell: str) -> str:
    """neutralise() undone: the quote it added is dropped, any other cell is left as is."""
    if cell.startswith("'") and cell.lstrip("'").startswith(_FORMULA_PREFIXES):
        return cell[1:]
    return cell


class _Echo:
    def write(self, value):
        return value


def export_lines(rows: Iterable[tuple]) -> Iterator[str]:
    """rows: (id, date, budget_id, budget_name, currency, kind, amount_minor,
    category_name, payee, description, notes, created_by_email)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for (tx_id, date, budget_id, budget_name, currency, kind, amount_minor, category, payee, description,
         notes, created_by) in rows:  # fmt: skip
        yield writer.writerow(
            [
                tx_id,
                date.isoformat(),
                budget_id,
                neutralise(budget_name),
                currency,
                kind,
                format_amount(amount_minor, currency),
                neutralise(category or ""),
                neutralise(payee),
                neutralise(description),
                neutralise(notes),
                neutralise(created_by or ""),
            ]
        )
