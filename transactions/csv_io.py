"""CSV import parsing and export rendering for transactions."""

import csv
import datetime
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.db import connection, transaction
from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError

from money.amounts import format_amount, parse_amount, parse_amount_fast
from money.currencies import CURRENCIES_BY_EXPONENT, codes_sql, minor_units
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


class Records(NamedTuple):
    """A file's rows as cells, before any is validated: ``rows`` are (line, cells) pairs, a
    row's line the file line it starts on (the header is line 1)."""

    names: list[str]
    rows: list[tuple[int, list[str]]]
    # Some row has a paid_by or split_with cell that is not blank.
    may_split: bool


def read_records(text: str) -> Records:
    """The header checked and the rows counted, not validated: an oversized file is refused
    at once, and the limit counts rows, not the errors they produce."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ParseError(f"The file is not valid CSV: {exc}", code="not_csv") from None
    names = [h.strip().lower() for h in header or []]
    _check_header(names)
    # A row's line is the file line it starts on (the header is line 1); reader.line_num is
    # the line it ends on, later when a quoted cell holds a line break. When no cell does
    # (each row read one line), the lines follow from the rows' places, without asking.
    first = reader.line_num + 1
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ParseError(
            f"The file is not valid CSV near line {reader.line_num}: {exc}", code="not_csv"
        ) from None
    if reader.line_num == first - 1 + len(rows):
        records = [(first + i, values) for i, values in enumerate(rows) if "".join(values).strip()]
    else:
        records = _records_by_line(text)
    if len(records) > MAX_IMPORT_ROWS:
        raise PayloadTooLarge(f"The file has more than {MAX_IMPORT_ROWS} rows.", code="too_many_rows")
    split_at = [names.index(name) for name in SPLIT_COLUMNS if name in names]
    may_split = any(len(values) > at and values[at].strip() for at in split_at for _, values in records)
    return Records(names, records, may_split)


def _records_by_line(text: str) -> list[tuple[int, list[str]]]:
    """(line, cells) of each row that is not all blank, a row's line the one it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)  # the header, read once already
    records = []
    start = reader.line_num + 1
    for values in reader:
        if "".join(values).strip():  # not every cell blank
            records.append((start, values))
        start = reader.line_num + 1
    return records


class RowParser:
    """Validates rows of one file: (line, cells) -> (line, row) or its errors.

    Each row first takes a fast path that accepts exactly the rows whose every cell the
    full path (_parse_row: DRF's fields, parse_amount, the split columns) accepts, with the
    same result; any other row goes through the full path, so that every error keeps its
    code and message (test_csv_fast_path.py compares the two)."""

    def __init__(self, names: list[str], *, currency: str):
        self.names, self.currency = names, currency
        self.width = len(names)
        self.places = minor_units(currency)
        self.columns = [
            names.index(name)
            for name in ("date", "kind", "amount", "category", "payee", "description", "notes")
        ]
        self.currency_at = names.index("currency") if "currency" in names else None
        split_at = [names.index(name) if name in names else None for name in SPLIT_COLUMNS]
        self.split_at = split_at if any(at is not None for at in split_at) else None
        # Cell -> what the fast path reads in it (_SLOW: the full path decides).
        self.dates: dict[str, object] = {}
        self.amounts: dict[str, object] = {}
        self.categories: dict[str, object] = {}

    def parse(self, records: Iterable[tuple[int, list[str]]]) -> tuple[list[tuple[int, dict]], list[dict]]:
        rows, errors = [], []
        fast = self._fast_row
        for line, values in records:
            if len(values) != self.width:
                errors.append(
                    _error(line, None, "invalid_row", f"Expected {self.width} cells, found {len(values)}.")
                )
                continue
            row = fast(values)
            if row is None:
                row, row_errors = _parse_row(
                    dict(zip(self.names, values, strict=True)), currency=self.currency, line=line
                )
                if row_errors:
                    errors.extend(row_errors)
                    continue
            rows.append((line, row))
        return rows, errors

    def _fast_row(self, values: list[str]) -> dict | None:
        """The row, if the fast path certainly accepts every cell; else None. The cells a
        file repeats most (dates, amounts, categories) are read once each."""
        date_at, kind_at, amount_at, category_at, payee_at, description_at, notes_at = self.columns
        cell = values[date_at]
        day = self.dates.get(cell)
        if day is None:
            day = self.dates[cell] = _fast_date(cell.strip())
        kind = values[kind_at].strip()
        cell = values[amount_at]
        amount = self.amounts.get(cell)
        if amount is None:
            amount = self.amounts[cell] = parse_amount_fast(cell.strip(), self.places) or _SLOW
        cell = values[category_at]
        category = self.categories.get(cell)
        if category is None:
            category = self.categories[cell] = _fast_text("category", cell)
        if day is _SLOW or kind not in _KINDS or amount is _SLOW or category is _SLOW:
            return None
        payee = _fast_text("payee", values[payee_at])
        description = _fast_text("description", values[description_at])
        notes = _fast_text("notes", values[notes_at])
        if payee is _SLOW or description is _SLOW or notes is _SLOW:
            return None
        if self.currency_at is not None:
            stated = values[self.currency_at]
            if stated and stated.strip() and stated.strip().upper() != self.currency:
                return None
        split = None
        if self.split_at:
            paid_by, split_with = (values[i] if i is not None else "" for i in self.split_at)
            if paid_by.strip() or split_with.strip():
                split, split_errors = _parse_split({"paid_by": paid_by, "split_with": split_with}, 0)
                if split_errors:
                    return None
        return {
            "split": split,
            "date": day,
            "kind": kind,
            "amount_minor": amount,
            "category_name": category or None,
            "payee": payee,
            "description": description,
            "notes": notes,
        }


def _fast_date(value: str):
    if not _ISO_DATE.match(value):
        return _SLOW
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return _SLOW


def _fast_text(name: str, cell: str):
    """A text cell as _parse_row reads it (stripped, the export's quote dropped), or _SLOW."""
    value = cell.strip()
    if value[:1] == "'":
        value = unneutralise(value)
    return value if len(value) <= _TEXT_LIMITS[name] else _SLOW


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


# The export's rows as the ORM reads them, for export_lines().
EXPORT_FIELDS = (
    "id",
    "date",
    "budget_id",
    "budget__name",
    "budget__currency",
    "kind",
    "amount_minor",
    "category__name",
    "payee",
    "description",
    "notes",
    "created_by__email",
)
# Rows per piece of the streamed body: one write to the socket per piece, not per row
# (a row per write held a gunicorn worker to about 50,000 rows/s), about 0.9 MB each.
ROWS_PER_PIECE = 10_000


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


def export_body(queryset) -> Iterator[str]:
    """The CSV export of ``queryset`` (already scoped, filtered and ordered), in pieces of
    ROWS_PER_PIECE rows. On PostgreSQL the database renders every cell (export_sql) and
    Python's csv writer only quotes and joins them, a piece at a time; elsewhere, or for an
    ordering export_sql does not know, each row goes through export_lines(). Both give the
    same bytes (test_export_fast_path.py)."""
    if connection.vendor == "postgresql":
        statement = export_sql(queryset)
        if statement is not None:
            return _export_body_postgresql(*statement)
    return _pieces(export_lines(queryset.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)))


def _pieces(lines: Iterator[str]) -> Iterator[str]:
    while piece := "".join(itertools.islice(lines, ROWS_PER_PIECE)):
        yield piece


def _export_body_postgresql(sql: str, params) -> Iterator[str]:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(EXPORT_COLUMNS)
    header = buffer.getvalue()
    # A transaction of its own, so that the named cursor streams: outside one, Django
    # declares it WITH HOLD and PostgreSQL materialises the whole result before the first
    # row. Closing the generator (a client gone) closes the cursor and ends the transaction.
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        with connection.cursor() as settings:
            # Dates as YYYY-MM-DD whatever the server's default; the sort in memory up to
            # 32 MB (about 300,000 rows) instead of on disk past 4 MB. This transaction only.
            settings.execute("SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL work_mem = '32MB'")
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(ROWS_PER_PIECE):
            yield header + "".join([row[0] for row in rows])
            header = ""
    if header:
        yield header


def export_sql(queryset) -> tuple[str, tuple] | None:
    """(sql, params) that read ``queryset``'s rows in its order, each as its whole CSV line
    rendered by PostgreSQL as export_lines() writes it: ids as integers, text through
    neutralise() and then quoted as Python's csv module quotes (a cell holding a comma, a
    double quote, CR or LF is wrapped in double quotes, its double quotes doubled), the date
    ISO, the amount in its currency's minor units, CRLF at the end. None for an ordering that
    is not a list of field names.

    One text value per row: Python joins them, where twelve values per row cost more to
    convert and write than the database takes to render them. The ORM's query (scoping,
    filters, order) reads the plain columns and sorts them; the lines are rendered around
    it, after the sort, which then moves narrow rows (rendered first, the sort of 50,000
    rows spilled to disk). The outer ORDER BY repeats the inner one on the same columns, so
    the planner keeps the inner order instead of sorting again."""
    order = list(queryset.query.order_by)
    if not all(isinstance(name, str) and name.lstrip("-").replace("_", "").isalnum() for name in order):
        return None
    fields = list(EXPORT_FIELDS)
    keys = []
    for name in order:
        field = "id" if name.lstrip("-") == "pk" else name.lstrip("-")
        if field not in fields:
            fields.append(field)
        keys.append(f"x.c{fields.index(field)}{' DESC' if name.startswith('-') else ''}")
    inner, params = queryset.values_list(*fields).query.sql_with_params()
    (tx_id, day, budget_id, budget, currency, kind, amount, category, payee, description, notes,
     created_by) = (f"x.c{n}" for n in range(len(EXPORT_FIELDS)))  # fmt: skip
    cells = [
        f"{tx_id}::text",
        f"{day}::text",  # ISO: the transaction sets DateStyle
        f"{budget_id}::text",
        _csv_text_sql(budget),
        _csv_text_sql(currency, neutralised=False),
        _csv_text_sql(kind, neutralised=False),
        f"COALESCE({_amount_sql(amount, currency)}, '')",
        _csv_text_sql(f"COALESCE({category}, '')"),
        _csv_text_sql(payee),
        _csv_text_sql(description),
        _csv_text_sql(notes),
        _csv_text_sql(f"COALESCE({created_by}, '')"),
    ]
    line = " || ',' || ".join(cells) + " || chr(13) || chr(10)"
    columns = ", ".join(f"c{n}" for n in range(len(fields)))
    # Built from the ORM's compiled query and this module's constants; values stay parameters.
    sql = f"SELECT {line} FROM ({inner}) AS x ({columns})"  # noqa: S608
    return (f"{sql} ORDER BY {', '.join(keys)}" if keys else sql), params


def _csv_text_sql(value: str, *, neutralised: bool = True) -> str:
    """A text cell as csv.writer writes it (QUOTE_MINIMAL, the excel dialect), after
    neutralise() when ``neutralised``. neutralise() only ever prepends a single quote, which
    needs no quoting, and looks past leading single quotes only, so the value needs quoting
    exactly when the neutralised one does and its double quotes can be doubled first."""
    specials = " OR ".join(f"strpos({value}, {char}) > 0" for char in ("','", "'\"'", "chr(13)", "chr(10)"))
    doubled = f"replace({value}, '\"', '\"\"')"
    if neutralised:
        plain, quoted = _neutralised_sql(value), _neutralised_sql(doubled)
    else:
        plain, quoted = value, doubled
    return f"CASE WHEN {specials} THEN '\"' || {quoted} || '\"' ELSE {plain} END"


def _neutralised_sql(value: str) -> str:
    """neutralise(value) in SQL. ascii() is the first character's code point (0 for an empty
    string): integer comparisons, and ltrim() only for a cell that starts with a quote,
    about a tenth of the cost of comparing left(ltrim(value), 1) on every cell."""
    codes = ", ".join(str(ord(prefix)) for prefix in _FORMULA_PREFIXES)
    return (
        f"CASE WHEN ascii({value}) IN ({codes})"
        f" OR (ascii({value}) = 39 AND ascii(ltrim({value}, '''')) IN ({codes}))"
        f" THEN '''' || {value} ELSE {value} END"
    )


def _amount_sql(amount: str, currency: str) -> str:
    """format_amount(amount, currency) in SQL: the amount times the currency's minor unit as
    a numeric (0.01, 1, 0.001, 0.0001), whose scale is the number of places the text shows.
    The two-place currencies first: an IN list that long is hashed, one probe per row. A
    code outside MINOR_UNITS (the field's choices) gives an empty cell, where format_amount
    raises."""
    units = {2: "0.01", 0: "1", 3: "0.001", 4: "0.0001"}
    if set(CURRENCIES_BY_EXPONENT) - set(units):
        raise ValueError(f"No unit for exponents {set(CURRENCIES_BY_EXPONENT) - set(units)}")
    branches = [f"WHEN {currency} IN {codes_sql(exponent)} THEN {unit}" for exponent, unit in units.items()]
    return f"({amount} * CASE {' '.join(branches)} END)::text"
