"""The import's and bulk/'s fast paths (issue 16, item 5) give exactly what the full paths
give: the same rows, the same validated data, the same errors, whatever the input.

- csv_io.RowParser: each row first through a fast path, else through _parse_row (DRF's
  fields, parse_amount, the split columns); compared here with _parse_row on every row.
- money.amounts.parse_amount_fast: compared with parse_amount.
- serializers.validated_items_fast: compared with TransactionInputSerializer(many=True).
- serializers.validated_new_transaction (POST transactions/): compared with the serializer.
"""

import copy
import csv
import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from accounts.tests.factories import UserFactory
from budgets.models import Budget, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_user
from households.tests.factories import make_household
from money.amounts import MAX_MINOR, format_amount, from_minor, parse_amount, parse_amount_fast
from money.currencies import MINOR_UNITS, minor_units
from transactions import csv_io
from transactions.serializers import (
    TransactionInputSerializer,
    validated_items_fast,
    validated_new_transaction,
)

CURRENCIES = ("EUR", "JPY", "BHD")

# Cells near every rule's edge, shared by many rows so that the parser's per-cell memory of
# what it read is exercised too.
DATES = ["2026-01-05", " 2026-01-05 ", "2026-02-30", "2026-1-5", "20260105", "", "2026-W01-1", "abc",
         "2026-01-05T00:00", "0001-01-01", "9999-12-31", "\uff12\uff10\uff12\uff16-01-05"]  # fmt: skip
KINDS = ["expense", "income", " income ", "Expense", "", "refund"]
AMOUNTS = ["12.30", "12.3", "12.300", "12.345", "0", "0.00", "-1", " 7 ", "1e3", ".5", "5.", "007.50",
           "9999999999.99", "10000000000", "999999999999", "\u0661\u0662", "1.0001", "12,30", "+5",
           "1_000", ""]  # fmt: skip
TEXTS = ["", "  ", "Market", " Market ", "=SUM(A1)", "'=SUM(A1)", "''=x", "'plain", "-5", "@x", "\t=x",
         "'\t=x", "a\\b", "tab\there", "line\nbreak", "cr\rhere", "\\N", "Ünïcödé", "x" * 100, "x" * 101,
         "y" * 200, "y" * 201, "z" * 500, "z" * 501, " " * 300, "n" * 2000, "n" * 2001]  # fmt: skip
CURRENCY_CELLS = ["", "EUR", "eur", "JPY", " EUR ", "BHD", "XYZ"]
SPLIT_CELLS = ["", " ", "a@x.com", "A@X.com", "a@x.com:2; b@x.com:1", "a@x.com:x", "a@x.com; a@x.com",
               "a@x.com:2; b@x.com", ";", "a@x.com:0", "a@x.com:1.12345"]  # fmt: skip

HEADERS = st.permutations(list(csv_io.IMPORT_COLUMNS)).flatmap(
    lambda names: st.tuples(st.just(names), st.booleans(), st.booleans()).map(
        lambda t: [*t[0], *(["currency"] if t[1] else []), *(["paid_by", "split_with"] if t[2] else [])]
    )
)


def cell_for(name: str):
    pool = {
        "date": DATES,
        "kind": KINDS,
        "amount": AMOUNTS,
        "currency": CURRENCY_CELLS,
        "paid_by": SPLIT_CELLS,
        "split_with": SPLIT_CELLS,
    }.get(name, TEXTS)
    return st.one_of(st.sampled_from(pool), st.text(max_size=12))


VALID = {
    "date": ["2026-01-05", "2026-12-31", " 2024-02-29 "],
    "kind": ["expense", "income", " income "],
    "amount": ["12", "12.30", "12.3", "12.300", "007.50", " 8 "],
    "category": ["", "Food", " food ", "'=x"],
    "payee": ["", "Market", "'=SUM(A1)", "a\\b", "tab\there"],
    "description": ["", "weekly", "line\nbreak"],
    "notes": ["", "n" * 2000],
    "currency": ["", "EUR", "eur", "JPY", "BHD"],
    "paid_by": ["", "", "a@x.com"],
    "split_with": ["", "", "a@x.com; b@x.com", "a@x.com:2; b@x.com:1"],
}


@st.composite
def files(draw):
    """Rows that are valid, valid but for one cell, or anything."""
    names = draw(HEADERS)
    currency = draw(st.sampled_from(CURRENCIES))
    count = draw(st.integers(min_value=1, max_value=12))
    records = []
    for line in range(2, 2 + count):
        mode = draw(st.sampled_from(["valid", "one bad cell", "anything"]))
        if mode == "anything":
            values = [draw(cell_for(name)) for name in names]
        else:
            values = [draw(st.sampled_from(VALID[name])) for name in names]
            if mode == "one bad cell":
                at = draw(st.integers(0, len(names) - 1))
                values[at] = draw(cell_for(names[at]))
        if draw(st.integers(0, 20)) == 0:  # a row of the wrong width
            values = values[:-1]
        records.append((line, values))
    return names, currency, records


def full_path(names, records, currency):
    """What the import read before its fast path: _parse_row on every row."""
    rows, errors = [], []
    for line, values in records:
        if len(values) != len(names):
            errors.append(
                csv_io._error(line, None, "invalid_row", f"Expected {len(names)} cells, found {len(values)}.")
            )
            continue
        row, row_errors = csv_io._parse_row(
            dict(zip(names, values, strict=True)), currency=currency, line=line
        )
        if row_errors:
            errors.extend(row_errors)
        else:
            rows.append((line, row))
    return rows, errors


@settings(max_examples=400, deadline=None)
@given(files())
def test_the_row_parser_reads_every_row_as_the_full_path_does(file):
    names, currency, records = file
    assert csv_io.RowParser(names, currency=currency).parse(records) == full_path(names, records, currency)


@pytest.mark.parametrize("currency", CURRENCIES)
def test_plain_rows_take_the_fast_path(currency, monkeypatch):
    """The rows a bank's file holds never reach the full path."""
    names = [*csv_io.IMPORT_COLUMNS, "currency", "paid_by", "split_with"]
    records = [
        (2, ["2026-01-05", "12", "expense", "Food", "Market", "weekly", "", currency, "", ""]),
        (3, ["2026-01-06", "3", "income", "", "'=x", "", "n", "", "a@x.com", "a@x.com; b@x.com"]),
    ]  # fmt: skip
    monkeypatch.setattr(csv_io, "_parse_row", lambda *a, **k: pytest.fail("took the full path"))
    rows, errors = csv_io.RowParser(names, currency=currency).parse(records)
    assert errors == [] and [line for line, _ in rows] == [2, 3]
    assert rows[1][1]["payee"] == "=x"


# parse_amount_fast ---------------------------------------------------------------------------

PLAIN = st.from_regex(r"\A[0-9]{1,14}(\.[0-9]{1,6})?\Z")


@settings(max_examples=1000, deadline=None)
@given(st.one_of(PLAIN, st.sampled_from(AMOUNTS), st.text(max_size=16)), st.sampled_from(CURRENCIES))
@example("0" * 41 + "1", "EUR")
@example("1" + "0" * 39, "JPY")
def test_parse_amount_fast_agrees_with_parse_amount(text, currency):
    fast = parse_amount_fast(text, minor_units(currency))
    try:
        full = parse_amount(text, currency)
    except serializers.ValidationError:
        full = None
    if fast is not None:
        assert fast == full
    elif full is not None:
        # Only whitespace around the number sends a valid amount past the fast path.
        assert text != text.strip()


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(CURRENCIES), st.integers(min_value=1, max_value=MAX_MINOR - 1))
def test_parse_amount_fast_reads_every_amount_the_api_writes(currency, minor):
    places = minor_units(currency)
    text = f"{Decimal(minor).scaleb(-places):f}"
    assert parse_amount_fast(text, places) == minor == parse_amount(text, currency)


@settings(max_examples=1000, deadline=None)
@given(
    st.sampled_from(sorted(MINOR_UNITS)),
    st.one_of(
        st.integers(min_value=-(MAX_MINOR - 1), max_value=MAX_MINOR - 1),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.sampled_from([0, 1, -1, 9, 10, 99, 100, 101, -100, -101, 999, 1000, -1000]),
    ),
)
def test_format_amount_writes_what_the_decimal_writes(currency, minor):
    """format_amount's integer arithmetic gives the Decimal's plain string, for every
    currency and any bigint (a summary's remaining amount may be negative)."""
    assert format_amount(minor, currency) == f"{from_minor(minor, currency):f}"


# validated_items_fast ------------------------------------------------------------------------

VALUES = {
    "kind": ["expense", "income", "Expense", " income", "", None, 1],
    "amount": ["12.30", "12.345", "0", " 1", "1e3", 12, "12", "", None, "9999999999.99", "10000000000"],
    "date": ["2026-01-05", "2026-02-30", "2026-1-5", "20260105", "", None, 20260105, "2026-01-05T00:00:00"],
    "payee": ["", "  ", "Bakery", " Bakery ", "a\x00b", "\ud800", "x" * 200, "x" * 201, " " * 300, None, 5],
    "description": ["", "croissants", "d" * 500, "d" * 501],
    "notes": ["", "n" * 2000, "n" * 2001, "\t"],
}


@pytest.fixture
def scoped(db):
    eur, yen = BudgetFactory(currency="EUR"), BudgetFactory(currency="JPY")
    food, sushi = CategoryFactory(budget=eur, name="Food"), CategoryFactory(budget=yen, name="Sushi")
    stranger = BudgetFactory()
    rows = {
        Budget: {eur.pk: eur, yen.pk: yen},
        Category: {food.pk: food, sushi.pk: Category.objects.select_related("budget").get(pk=sushi.pk)},
    }
    return rows, [eur.pk, yen.pk, stranger.pk, str(eur.pk), True], [food.pk, sushi.pk, None, str(food.pk), 0]


@st.composite
def items(draw, budget_ids, category_ids):
    item = {"budget": draw(st.sampled_from(budget_ids))}
    for name, values in VALUES.items():
        if name in ("kind", "amount", "date") or draw(st.booleans()):
            item[name] = draw(st.sampled_from(values))
    if draw(st.booleans()):
        item["category"] = draw(st.sampled_from(category_ids))
    if draw(st.integers(0, 5)) == 0:
        item["split"] = None
    if draw(st.integers(0, 8)) == 0:
        del item[draw(st.sampled_from(sorted(item)))]
    if draw(st.integers(0, 8)) == 0:
        item["unknown"] = "ignored"
    return item


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_validated_items_fast_agrees_with_the_serializer(scoped, data):
    rows, budget_ids, category_ids = scoped
    body = data.draw(st.lists(items(budget_ids, category_ids), min_size=1, max_size=4))
    fast = validated_items_fast([dict(item) for item in body], rows)
    serializer = TransactionInputSerializer(data=body, many=True, context={"scoped_rows": rows})
    if fast is None:
        return  # the serializer decides, as it always did
    assert serializer.is_valid(), serializer.errors
    assert [dict(item) for item in serializer.validated_data] == fast


def test_plain_items_take_the_fast_path(scoped):
    rows, (eur, yen, *_), (food, *_) = scoped
    body = [
        {"budget": eur, "category": food, "kind": "expense", "amount": "12.30", "date": "2026-01-05"},
        {
            "budget": yen,
            "kind": "income",
            "amount": "1500",
            "date": "2026-01-06",
            "payee": " Shop ",
            "notes": "",
        },
        {
            "budget": eur,
            "category": None,
            "kind": "expense",
            "amount": "1.5",
            "date": "2026-01-07",
            "split": None,
        },
    ]
    fast = validated_items_fast(body, rows)
    assert [item["amount_minor"] for item in fast] == [1230, 1500, 150]
    assert fast[1]["payee"] == "Shop" and fast[0]["date"] == datetime.date(2026, 1, 5)
    assert fast[0]["category"].pk == food and "category" not in fast[1] and fast[2]["category"] is None


# read_records ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just([]),
            st.lists(st.sampled_from(["", " ", "a", "b\nc", "d\r\ne", '"q"', "x,y"]), min_size=7, max_size=7),
        ),
        max_size=8,
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_each_row_keeps_the_line_it_starts_on(rows, newline):
    """Rows read one line each take their lines from their places; a cell with a line break
    sends the file through the line-by-line reading: both give every row the line it starts on."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(csv_io.IMPORT_COLUMNS)
    writer.writerows(rows)
    text = out.getvalue()
    assert csv_io.read_records(text).rows == csv_io._records_by_line(text)


# bulk/'s answer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("null_split", [False, True])
def test_bulk_answers_each_row_as_get_answers_it(world, as_, null_split):
    """Without splits bulk/ answers from what it wrote, not from a read back: the same body,
    row by row, as GET transactions/<id>/ (timestamps, version and author included)."""
    from transactions.tests.helpers import BULK, detail_url, payload

    body = [
        payload(world.budget, category=world.food.pk, payee=" Ünïcode  ", amount="12.3"),
        payload(world.budget, payee="tab\tand\\back", description="", notes="n" * 2000, amount="0.01"),
        {"budget": world.budget.pk, "kind": "income", "amount": "2500", "date": "2026-02-28"},
    ]
    if null_split:
        body[0]["split"] = None  # null: no split, still the answer from what was written
    client = as_("editor")
    response = client.post(BULK, body)
    assert response.status_code == 201, response.content[:500]
    answered = response.json()
    assert [row["payee"] for row in answered] == ["Ünïcode", "tab\tand\\back", ""]
    assert answered == [client.get(detail_url(row["id"])).json() for row in answered]


def test_bulk_answers_rows_of_several_budgets_in_their_own_currencies_as_get_answers_them(db, client_for):
    """The answer built from what was written takes each row's currency from its own budget
    and the author from the caller: rows of a yen, a dinar and a euro budget, interleaved,
    by an editor who owns none of them."""
    from transactions.tests.helpers import BULK, detail_url, payload

    editor = UserFactory()
    budgets = [BudgetFactory(currency=code) for code in ("JPY", "KWD", "EUR")]
    for budget in budgets:
        make_household(budget.owner, members=[editor])
        share_user(budget, editor, "edit")
    amounts = {"JPY": "1250", "KWD": "3.125", "EUR": "0.50"}
    body = [
        payload(budget, amount=amounts[budget.currency], payee=f"{budget.currency} {n}")
        for n in range(2)
        for budget in budgets
    ]
    client = client_for(editor)
    response = client.post(BULK, body)
    assert response.status_code == 201, response.content[:500]
    answered = response.json()
    assert [(row["budget"], row["amount"]) for row in answered] == [
        (item["budget"], item["amount"]) for item in body
    ]
    assert {row["created_by"]["email"] for row in answered} == {editor.email}
    assert answered == [client.get(detail_url(row["id"])).json() for row in answered]


# validated_new_transaction (POST transactions/) ------------------------------------------------


@pytest.fixture
def caller_and_ids(db):
    caller = UserFactory()
    eur, yen = BudgetFactory(owner=caller, currency="EUR"), BudgetFactory(owner=caller, currency="JPY")
    food, sushi = CategoryFactory(budget=eur, name="Food"), CategoryFactory(budget=yen, name="Sushi")
    foreign = CategoryFactory()  # someone else's budget and category: read like unknown ids
    viewed = BudgetFactory(currency="EUR")  # shared to view: the fields accept it (the service refuses)
    make_household(viewed.owner, members=[caller])
    share_user(viewed, caller, "view")
    budget_ids = [eur.pk, yen.pk, viewed.pk, foreign.budget_id, str(eur.pk), True, 2**63, None, 10**9]
    category_ids = [food.pk, sushi.pk, foreign.pk, None, str(food.pk), 0, 2**63]
    return SimpleNamespace(user=caller), budget_ids, category_ids


def _answer(validate):
    try:
        return "valid", dict(validate())
    except ValidationError as error:
        return "invalid", error.detail


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_new_transaction_validates_as_the_serializer_validates_it(caller_and_ids, data):
    """The create's own path (the rows read as the fields read them, then the fast check or
    the serializer given those rows) accepts what the serializer alone accepts, with the same
    values, and refuses the rest with the same errors."""
    request, budget_ids, category_ids = caller_and_ids
    body = data.draw(st.one_of(items(budget_ids, category_ids), st.just([]), st.just("text")))
    context = {"request": request}

    def alone():
        serializer = TransactionInputSerializer(data=copy.deepcopy(body), context=context)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    assert _answer(lambda: validated_new_transaction(copy.deepcopy(body), context)) == _answer(alone)


def test_a_plain_new_transaction_skips_the_serializer(caller_and_ids, monkeypatch):
    request, (eur, *_), (food, *_) = caller_and_ids
    monkeypatch.setattr(TransactionInputSerializer, "is_valid", None)  # would fail if called
    body = {"budget": eur, "category": food, "kind": "expense", "amount": "12.30", "date": "2026-01-05"}
    data = validated_new_transaction(body, {"request": request})
    assert data["amount_minor"] == 1230 and data["budget"].pk == eur and data["category"].pk == food
