"""The export's body (csv_io.export_body) is byte for byte what export_lines() writes.

On PostgreSQL export_body has the database render every cell (csv_io.export_cells) and
streams pieces from a named cursor; on SQLite it is export_lines() in pieces. Either way
these tests hold it to export_lines() over the plain ORM rows, on the cells that are easy
to get wrong: formula prefixes after any number of quotes, quotes, commas, line breaks,
non-ASCII, empty and missing values, every currency exponent, the calendar's edges.
"""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, CategoryFactory
from transactions import csv_io
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import EXPORT, csv_body

pytestmark = pytest.mark.django_db

AMOUNTS = [1, 9, 10, 99, 100, 101, 1_000, 12_345, 10**12 - 1, 999_999_999_999_999_999]
TRICKY_TEXTS = [
    "",
    "plain",
    "=1+1",
    "+1",
    "-2",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "'=1",
    "''=1",
    "'''+x",
    "'plain",
    "''",
    "'",
    'say "hi"',
    '"=1"',
    "a,b",
    "line\nbreak",
    "cr\rreturn",
    "crlf\r\nend",
    " =leading space",
    "Zürich \u2013 café ☕ 東京",
    "back\\slash",
    "50% off_now",
    "\\.",
    "trailing space ",
]


def reference(queryset) -> str:
    return "".join(csv_io.export_lines(queryset.values_list(*csv_io.EXPORT_FIELDS)))


def fast(queryset) -> str:
    return "".join(csv_io.export_body(queryset))


def everything():
    return Transaction.objects.order_by("-date", "-id")


def test_tricky_cells_every_currency_and_the_calendars_edges_export_identically():
    owner = UserFactory(email="=owner@example.com")
    gone = UserFactory()
    budgets = [
        BudgetFactory(owner=owner, currency=currency, name=name)
        for currency, name in [("EUR", "=Family"), ("JPY", "''+Yen"), ("BHD", 'Di"nar'), ("CLF", "Cl,f")]
    ]
    for index, text in enumerate(TRICKY_TEXTS):
        budget = budgets[index % len(budgets)]
        category = CategoryFactory(budget=budget, name=(text or "blank")[:100]) if index % 3 else None
        TransactionFactory(
            budget=budget,
            category=category,
            created_by=gone if index % 5 == 0 else owner,
            kind="income" if index % 2 else "expense",
            amount_minor=AMOUNTS[index % len(AMOUNTS)],
            date=[datetime.date(1, 1, 1), datetime.date(9999, 12, 31), datetime.date(2026, 2, 28)][index % 3],
            payee=text[:200],
            description=text[::-1],
            notes=text * 3,
        )
    gone.delete()  # their rows keep an empty author cell
    body = fast(everything())
    assert body == reference(everything())
    assert body.count("\r\n") >= len(TRICKY_TEXTS) + 1
    assert "'=Family" in body and "'''+Yen" in body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=60),
    amount=st.integers(min_value=1, max_value=10**18),
    currency=st.sampled_from(["EUR", "JPY", "BHD", "CLF", "KWD", "ISK"]),
)
def test_any_text_and_amount_export_identically(text, amount, currency):
    Transaction.objects.all().delete()
    budget = BudgetFactory(currency=currency, name=text[:100])
    TransactionFactory(
        budget=budget,
        category=CategoryFactory(budget=budget, name=text[:100]),
        amount_minor=amount,
        payee=text,
        description=text,
        notes=text,
    )
    assert fast(everything()) == reference(everything())


def test_the_body_comes_in_pieces_of_rows_per_piece(monkeypatch):
    monkeypatch.setattr(csv_io, "ROWS_PER_PIECE", 7)
    budget = BudgetFactory()
    Transaction.objects.bulk_create(
        Transaction(budget=budget, kind="expense", amount_minor=n + 1, date=datetime.date(2026, 1, 1))
        for n in range(20)
    )
    pieces = list(csv_io.export_body(everything()))
    assert "".join(pieces) == reference(everything())
    lines = [piece.count("\r\n") for piece in pieces]
    # The header and 20 rows, 7 rows a piece (the header rides with the first piece's rows on
    # PostgreSQL, counts as one of its 7 lines elsewhere).
    assert sum(lines) == 21 and len(pieces) == 3, lines


def test_an_empty_export_is_the_header_alone(client_for):
    user = UserFactory()
    response = client_for(user).get(EXPORT)
    assert csv_body(response) == (",".join(csv_io.EXPORT_COLUMNS) + "\r\n").encode()


def test_an_export_abandoned_half_way_leaves_the_connection_usable():
    budget = BudgetFactory()
    Transaction.objects.bulk_create(
        Transaction(budget=budget, kind="expense", amount_minor=1, date=datetime.date(2026, 1, 1))
        for _ in range(30)
    )
    pieces = csv_io.export_body(everything())
    first = next(pieces)
    pieces.close()  # the client went away: the cursor and its transaction end here
    assert first.startswith("id,date,")
    assert Transaction.objects.filter(budget=budget).count() == 30
