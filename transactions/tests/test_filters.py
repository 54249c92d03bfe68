"""List filters, ordering and pagination: exact results, foreign ids like unknown ids, 400 on bad values."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import Budget, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_user
from households.tests.factories import make_household
from money.currencies import CURRENCIES_BY_EXPONENT, MINOR_UNITS, codes_sql
from server.tests.helpers import assert_error
from transactions.filters import amount_bound
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import LIST, missing_budget_id, missing_category_id

pytestmark = pytest.mark.django_db

D = datetime.date


@dataclass
class Ledger:
    owner: User
    partner: User
    stranger: User
    eur: Budget
    jpy: Budget
    groceries: Category
    foreign_budget: Budget
    foreign_category: Category
    rows: dict[str, Transaction]


@pytest.fixture
def ledger(db) -> Ledger:
    """The owner's EUR and JPY budgets; the partner (a housemate) may edit the EUR one
    and recorded one row in it. The stranger has rows of their own."""
    owner, partner, stranger = UserFactory(), UserFactory(), UserFactory()
    make_household(owner, members=[partner])
    eur = BudgetFactory(owner=owner, name="Home", currency="EUR")
    jpy = BudgetFactory(owner=owner, name="Trip", currency="JPY")
    share_user(eur, partner, "edit")
    groceries = CategoryFactory(budget=eur, name="Groceries")
    rows = {
        "bread": TransactionFactory(
            budget=eur, category=groceries, amount_minor=250, date=D(2026, 1, 1), payee="Bakery"
        ),
        "salary": TransactionFactory(
            budget=eur,
            kind="income",
            amount_minor=300_000,
            date=D(2026, 1, 31),
            payee="Employer",
            description="January pay",
        ),
        "dinner": TransactionFactory(
            budget=eur, amount_minor=1_000, date=D(2026, 2, 1), payee="Bistro", created_by=partner
        ),
        "ramen": TransactionFactory(budget=jpy, amount_minor=1_000, date=D(2026, 1, 15), payee="Ramen shop"),
        "train": TransactionFactory(
            budget=jpy, amount_minor=5, date=D(2026, 1, 16), payee="Metro", notes="ticket for Shinjuku"
        ),
    }
    foreign_budget = BudgetFactory(name="Foreign")
    foreign_category = CategoryFactory(budget=foreign_budget, name="Groceries")
    TransactionFactory(budget=foreign_budget, category=foreign_category, amount_minor=250, payee="Bakery")
    return Ledger(owner, partner, stranger, eur, jpy, groceries, foreign_budget, foreign_category, rows)


def listed(client, **params) -> list[int]:
    response = client.get(LIST, params)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == len(body["results"])
    return [item["id"] for item in body["results"]]


def ids(ledger, *names) -> list[int]:
    return [ledger.rows[name].pk for name in names]


def test_default_order_is_newest_date_first_then_newest_id(ledger, client_for):
    same_day = TransactionFactory(budget=ledger.eur, amount_minor=1, date=D(2026, 2, 1), payee="Later")
    assert listed(client_for(ledger.owner)) == [
        same_day.pk,
        *ids(ledger, "dinner", "salary", "train", "ramen", "bread"),
    ]


def test_budget_filter_keeps_that_budget_only(ledger, client_for):
    client = client_for(ledger.owner)
    assert listed(client, budget=ledger.jpy.pk) == ids(ledger, "train", "ramen")
    assert listed(client, budget=ledger.eur.pk) == ids(ledger, "dinner", "salary", "bread")


def test_category_filter_keeps_that_category_only(ledger, client_for):
    assert listed(client_for(ledger.partner), category=ledger.groceries.pk) == ids(ledger, "bread")


def test_kind_filter(ledger, client_for):
    client = client_for(ledger.owner)
    assert listed(client, kind="income") == ids(ledger, "salary")
    assert listed(client, kind="expense") == ids(ledger, "dinner", "train", "ramen", "bread")


def test_date_bounds_are_inclusive(ledger, client_for):
    client = client_for(ledger.owner)
    assert listed(client, date_after="2026-01-01", date_before="2026-01-31") == ids(
        ledger, "salary", "train", "ramen", "bread"
    )
    assert listed(client, date_after="2026-01-31") == ids(ledger, "dinner", "salary")
    assert listed(client, date_before="2026-01-01") == ids(ledger, "bread")
    assert listed(client, date_after="2026-02-02") == []


def test_amount_bounds_apply_in_each_budgets_currency(ledger, client_for):
    """EUR 10.00 and JPY 1000 are both 1000 minor units; the bounds are major units."""
    client = client_for(ledger.owner)
    assert listed(client, amount_min="10") == ids(ledger, "dinner", "salary", "ramen")
    assert listed(client, amount_min="10.01") == ids(ledger, "salary", "ramen")
    assert listed(client, amount_max="10") == ids(ledger, "dinner", "train", "bread")
    assert listed(client, amount_max="9.99") == ids(ledger, "train", "bread")
    assert listed(client, amount_min="2.5", amount_max="5") == ids(ledger, "train", "bread")
    assert listed(client, amount_min="4.5", amount_max="5.5") == ids(ledger, "train")
    assert listed(client, amount_min="1000", amount_max="1000") == ids(ledger, "ramen")


def test_created_by_filter_keeps_rows_recorded_by_that_person(ledger, client_for):
    client = client_for(ledger.owner)
    assert listed(client, created_by=ledger.partner.pk) == ids(ledger, "dinner")
    assert listed(client, created_by=ledger.owner.pk) == ids(ledger, "salary", "train", "ramen", "bread")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("bAkErY", ["bread"]),  # payee, any case
        ("january", ["salary"]),  # description
        ("shinjuku", ["train"]),  # notes
        ("nothing like this", []),
    ],
)
def test_search_looks_in_payee_description_and_notes(ledger, client_for, term, expected):
    assert listed(client_for(ledger.owner), search=term) == ids(ledger, *expected)


def test_search_never_reaches_foreign_rows(ledger, client_for):
    assert listed(client_for(ledger.stranger), search="Bakery") == []


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("date", ["bread", "ramen", "train", "salary", "dinner"]),
        ("-date", ["dinner", "salary", "train", "ramen", "bread"]),
        # Minor units: EUR 2.50 = 250, JPY 5 = 5; ties (EUR 10.00 and JPY 1000) by id.
        ("amount", ["train", "bread", "dinner", "ramen", "salary"]),
        ("-amount", ["salary", "ramen", "dinner", "bread", "train"]),
        ("created_at", ["bread", "salary", "dinner", "ramen", "train"]),
        ("-created_at", ["train", "ramen", "dinner", "salary", "bread"]),
    ],
)
def test_ordering_by_date_amount_and_created_at_both_ways(ledger, client_for, ordering, expected):
    assert listed(client_for(ledger.owner), ordering=ordering) == ids(ledger, *expected)


def test_filters_combine(ledger, client_for):
    client = client_for(ledger.owner)
    assert listed(client, budget=ledger.eur.pk, kind="expense", date_after="2026-01-02") == ids(
        ledger, "dinner"
    )


# Foreign ids in filters read exactly like unknown ids ----------------------------------------


@pytest.mark.parametrize(
    ("name", "foreign", "unknown"),
    [
        ("budget", lambda lg: lg.foreign_budget.pk, lambda lg: missing_budget_id()),
        ("category", lambda lg: lg.foreign_category.pk, lambda lg: missing_category_id()),
        ("created_by", lambda lg: lg.stranger.pk, lambda lg: User.objects.order_by("-pk").first().pk + 1000),
    ],
)
def test_foreign_id_in_a_filter_reads_exactly_like_an_unknown_id(ledger, client_for, name, foreign, unknown):
    client = client_for(ledger.owner)
    foreign_response = client.get(LIST, {name: foreign(ledger)})
    unknown_response = client.get(LIST, {name: unknown(ledger)})
    assert_error(foreign_response, 400, "invalid_choice", attr=name)
    assert foreign_response.content == unknown_response.content


def test_budget_shared_to_view_is_a_valid_filter_for_the_viewer(ledger, client_for):
    viewer = UserFactory()
    make_household(ledger.owner, name="Second", members=[viewer])
    share_user(ledger.jpy, viewer, "view")
    client = client_for(viewer)
    assert listed(client, budget=ledger.jpy.pk) == ids(ledger, "train", "ramen")
    assert_error(client.get(LIST, {"budget": ledger.eur.pk}), 400, "invalid_choice", attr="budget")


# Bad values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("budget", "abc"),
        ("category", "1.5"),
        ("created_by", "-1"),
        ("kind", "refund"),
        ("date_after", "2026-02-30"),
        ("date_before", "yesterday"),
        ("amount_min", "abc"),
        ("amount_min", "-1"),
        ("amount_max", "NaN"),
        ("amount_max", "1e999"),
        ("ordering", "payee"),
        ("search", "x" * 201),
    ],
)
def test_bad_filter_value_is_a_400_with_the_standard_body(ledger, client_for, name, value):
    response = client_for(ledger.owner).get(LIST, {name: value})
    body = assert_error(response, 400, attr=name)
    assert body["type"] == "validation_error"


# Pagination ----------------------------------------------------------------------------------


@pytest.fixture
def many_rows(ledger):
    Transaction.objects.bulk_create(
        Transaction(
            budget=ledger.eur,
            created_by=ledger.owner,
            kind="expense",
            amount_minor=100 + i,
            date=D(2025, 1, 1) + datetime.timedelta(days=i % 300),
            payee=f"bulk {i}",
        )
        for i in range(600)
    )
    return Transaction.objects.filter(budget__owner=ledger.owner).count()


def test_pagination_defaults_to_50_with_count_and_links(ledger, client_for, many_rows):
    response = client_for(ledger.owner).get(LIST)
    body = response.json()
    assert response.status_code == 200
    assert (body["count"], len(body["results"]), body["previous"]) == (many_rows, 50, None)
    assert "limit=50" in body["next"] and "offset=50" in body["next"]


def test_a_limit_above_500_is_clamped_to_500(ledger, client_for, many_rows):
    body = client_for(ledger.owner).get(LIST, {"limit": 1000}).json()
    assert (body["count"], len(body["results"])) == (many_rows, 500)
    assert "limit=500" in body["next"]


def test_pages_do_not_overlap_and_cover_every_row(ledger, client_for, many_rows):
    client = client_for(ledger.owner)
    seen: list[int] = []
    for offset in range(0, many_rows, 200):
        seen += listed_page(client, limit=200, offset=offset, ordering="date")
    assert len(seen) == len(set(seen)) == many_rows


def listed_page(client, **params) -> list[int]:
    response = client.get(LIST, params)
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


_CURRENCIES = ["EUR", "JPY", "BHD", "CLF"]


@pytest.fixture
def every_exponent(db):
    """Rows of 1, 9, 10, 99, 100, 1,000 and 12,345 minor units in a budget of each exponent."""
    owner = UserFactory()
    for currency in _CURRENCIES:
        budget = BudgetFactory(owner=owner, currency=currency)
        for minor in (1, 9, 10, 99, 100, 1_000, 12_345):
            TransactionFactory(budget=budget, amount_minor=minor)
    return owner


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bound=st.decimals(min_value=0, max_value=200, places=4, allow_nan=False, allow_infinity=False),
    name=st.sampled_from(["amount_min", "amount_max"]),
)
def test_amount_bounds_match_the_decimal_amount_in_each_currency(every_exponent, client_for, bound, name):
    """Against Decimal arithmetic: a row is kept when its amount, in its budget's currency,
    is at least (at most) the bound, whatever the bound's places."""
    expected = {
        tx.pk
        for tx in Transaction.objects.filter(budget__owner=every_exponent).select_related("budget")
        if (tx.amount >= bound if name == "amount_min" else tx.amount <= bound)
    }
    response = client_for(every_exponent).get(LIST, {name: str(bound), "limit": 500})
    assert response.status_code == 200, response.json()
    assert {item["id"] for item in response.json()["results"]} == expected


def test_an_amount_bound_names_the_currency_codes_in_its_sql_and_sends_only_its_bounds():
    """The codes are constants in the SQL (CurrencyOf): sent as parameters, a prepared
    statement's generic plan built and searched an array of them on every row it tested.
    Its parameters are the bound in each exponent's minor units."""
    bounded = amount_bound(Transaction.objects.all(), Decimal("12.5"), at_least=True)
    sql, params = bounded.query.sql_with_params()
    assert params == (1250, 12500, 13, 125000)  # exponents 2, 3, 0 and 4
    for exponent, codes in CURRENCIES_BY_EXPONENT.items():
        assert codes_sql(exponent) in sql
        assert all(f"'{code}'" in sql for code in codes)
    assert sum(len(codes) for codes in CURRENCIES_BY_EXPONENT.values()) == len(MINOR_UNITS)


@pytest.mark.parametrize("code", ["eur", "EU'", "EURO", "É€R"])
def test_only_a_currency_code_is_written_into_sql(code, monkeypatch):
    monkeypatch.setitem(CURRENCIES_BY_EXPONENT, 2, (*CURRENCIES_BY_EXPONENT[2], code))
    with pytest.raises(ValueError, match="Not a currency code"):
        codes_sql(2)
