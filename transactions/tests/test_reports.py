"""Budget periods, the period summary and the monthly report."""

import datetime

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from budgets.models import Budget
from budgets.tests.factories import BudgetFactory, CategoryFactory
from server.tests.helpers import assert_error
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import report_url, summary_url

pytestmark = pytest.mark.django_db

D = datetime.date


def bounds(period, start, on, end=None):
    budget = Budget(period=period, start_date=start, end_date=end, amount_minor=1, currency="EUR")
    return budget.period_bounds(on)


# Budget.period_bounds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2026, 1, 1), (D(2026, 1, 1), D(2026, 1, 7))),
        (D(2026, 1, 7), (D(2026, 1, 1), D(2026, 1, 7))),
        (D(2026, 1, 8), (D(2026, 1, 8), D(2026, 1, 14))),
        (D(2025, 12, 31), (D(2025, 12, 25), D(2025, 12, 31))),
    ],
)
def test_weekly_periods_are_seven_days_from_the_anchor(on, expected):
    assert bounds("weekly", D(2026, 1, 1), on) == expected


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2026, 1, 1), (D(2026, 1, 1), D(2026, 1, 31))),
        (D(2026, 2, 15), (D(2026, 2, 1), D(2026, 2, 28))),
        (D(2028, 2, 10), (D(2028, 2, 1), D(2028, 2, 29))),
        (D(2025, 12, 31), (D(2025, 12, 1), D(2025, 12, 31))),
    ],
)
def test_monthly_periods_anchored_on_the_first_are_calendar_months(on, expected):
    assert bounds("monthly", D(2026, 1, 1), on) == expected


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2026, 1, 31), (D(2026, 1, 31), D(2026, 2, 27))),
        (D(2026, 2, 27), (D(2026, 1, 31), D(2026, 2, 27))),
        (D(2026, 2, 28), (D(2026, 2, 28), D(2026, 3, 30))),
        (D(2026, 3, 30), (D(2026, 2, 28), D(2026, 3, 30))),
        (D(2026, 3, 31), (D(2026, 3, 31), D(2026, 4, 29))),
        (D(2026, 4, 30), (D(2026, 4, 30), D(2026, 5, 30))),
        (D(2026, 1, 30), (D(2025, 12, 31), D(2026, 1, 30))),
    ],
)
def test_monthly_periods_anchored_on_the_31st_clamp_to_short_months(on, expected):
    assert bounds("monthly", D(2026, 1, 31), on) == expected


def test_monthly_period_anchored_mid_month_runs_to_the_day_before_the_anchor():
    assert bounds("monthly", D(2026, 1, 15), D(2026, 3, 14)) == (D(2026, 2, 15), D(2026, 3, 14))


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2024, 2, 29), (D(2024, 2, 29), D(2025, 2, 27))),
        (D(2025, 2, 28), (D(2025, 2, 28), D(2026, 2, 27))),
        (D(2028, 2, 28), (D(2027, 2, 28), D(2028, 2, 28))),
        (D(2028, 2, 29), (D(2028, 2, 29), D(2029, 2, 27))),
    ],
)
def test_yearly_periods_anchored_on_a_leap_day(on, expected):
    assert bounds("yearly", D(2024, 2, 29), on) == expected


def test_yearly_period_anchored_on_the_first_is_the_calendar_year():
    assert bounds("yearly", D(2026, 1, 1), D(2026, 12, 31)) == (D(2026, 1, 1), D(2026, 12, 31))


@pytest.mark.parametrize("on", [D(2025, 1, 1), D(2026, 3, 15), D(2027, 1, 1)])
def test_custom_period_is_its_own_start_and_end(on):
    assert bounds("custom", D(2026, 3, 1), on, end=D(2026, 6, 30)) == (D(2026, 3, 1), D(2026, 6, 30))


@settings(max_examples=200, deadline=None)
@given(
    period=st.sampled_from(["weekly", "monthly", "yearly"]),
    start=st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 12, 31)),
    on=st.dates(min_value=D(1990, 1, 1), max_value=D(2050, 12, 31)),
)
def test_periods_contain_the_date_and_tile_the_calendar(period, start, on):
    first, last = bounds(period, start, on)
    assert first <= on <= last
    assert bounds(period, start, first) == (first, last)
    assert bounds(period, start, last) == (first, last)
    assert bounds(period, start, last + datetime.timedelta(days=1))[0] == last + datetime.timedelta(days=1)
    assert bounds(period, start, first - datetime.timedelta(days=1))[1] == first - datetime.timedelta(days=1)


# Summary -------------------------------------------------------------------------------------


@pytest.fixture
def owner_client(client_for):
    def make(budget):
        return client_for(budget.owner)

    return make


def test_summary_of_a_budget_with_no_transactions(owner_client):
    budget = BudgetFactory(amount_minor=50_000, currency="EUR")
    food = CategoryFactory(budget=budget, name="Food", allocated_minor=10_000)
    misc = CategoryFactory(budget=budget, name="Misc", allocated_minor=None)
    response = owner_client(budget).get(summary_url(budget.pk), {"date": "2026-03-10"})
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "currency": "EUR",
        "amount": "500.00",
        "spent": "0.00",
        "income": "0.00",
        "remaining": "500.00",
        "percent_used": "0.00",
        "by_category": [
            {"id": food.pk, "name": "Food", "allocated": "100.00", "spent": "0.00", "remaining": "100.00"},
            {"id": misc.pk, "name": "Misc", "allocated": None, "spent": "0.00", "remaining": None},
        ],
        "uncategorised_spent": "0.00",
    }


def test_summary_of_a_budget_without_categories_or_transactions(owner_client):
    budget = BudgetFactory(amount_minor=1_500, currency="JPY")
    body = owner_client(budget).get(summary_url(budget.pk), {"date": "2026-01-01"}).json()
    assert (body["amount"], body["spent"], body["remaining"], body["by_category"]) == (
        "1500",
        "0",
        "1500",
        [],
    )


def test_summary_counts_only_expenses_inside_the_period_bounds_inclusive(owner_client):
    budget = BudgetFactory(amount_minor=10_000, start_date=D(2026, 1, 15))
    food = CategoryFactory(budget=budget, name="Food", allocated_minor=2_000)
    for day, amount, kind, category in [
        (D(2026, 1, 14), 100_000, "expense", food),  # the period before
        (D(2026, 1, 15), 1_000, "expense", food),  # first day
        (D(2026, 2, 14), 500, "expense", None),  # last day
        (D(2026, 2, 1), 3_333, "income", food),  # income is not spending
        (D(2026, 2, 15), 100_000, "expense", None),  # the period after
    ]:
        TransactionFactory(budget=budget, date=day, amount_minor=amount, kind=kind, category=category)
    body = owner_client(budget).get(summary_url(budget.pk), {"date": "2026-02-01"}).json()
    assert body == {
        "period_start": "2026-01-15",
        "period_end": "2026-02-14",
        "currency": "EUR",
        "amount": "100.00",
        "spent": "15.00",
        "income": "33.33",
        "remaining": "85.00",
        "percent_used": "15.00",
        "by_category": [
            {"id": food.pk, "name": "Food", "allocated": "20.00", "spent": "10.00", "remaining": "10.00"}
        ],
        "uncategorised_spent": "5.00",
    }


def test_overspending_shows_negative_remaining_and_over_100_percent(owner_client):
    budget = BudgetFactory(amount_minor=1_000, currency="BHD")
    cat = CategoryFactory(budget=budget, name="All", allocated_minor=500)
    TransactionFactory(budget=budget, category=cat, amount_minor=1_337, date=D(2026, 1, 2))
    body = owner_client(budget).get(summary_url(budget.pk), {"date": "2026-01-02"}).json()
    assert (body["spent"], body["remaining"], body["percent_used"]) == ("1.337", "-0.337", "133.70")
    assert body["by_category"][0]["remaining"] == "-0.837"


@time_machine.travel(datetime.datetime(2026, 3, 20, 12, tzinfo=datetime.UTC), tick=False)
def test_summary_defaults_to_the_period_containing_today(owner_client):
    budget = BudgetFactory(start_date=D(2026, 1, 1))
    body = owner_client(budget).get(summary_url(budget.pk)).json()
    assert (body["period_start"], body["period_end"]) == ("2026-03-01", "2026-03-31")


@pytest.mark.parametrize("value", ["2026-02-30", "0000-01-01", "yesterday", "2026-01-01T00:00"])
def test_summary_with_a_bad_date_is_400(owner_client, value):
    budget = BudgetFactory()
    assert_error(owner_client(budget).get(summary_url(budget.pk), {"date": value}), 400, attr="date")


@pytest.mark.parametrize(
    ("period", "value"),
    [("monthly", "9999-12-31"), ("weekly", "9999-12-31"), ("weekly", "0001-01-01"), ("yearly", "9999-06-01")],
)
def test_summary_for_a_period_past_the_calendars_edge_is_400_not_500(owner_client, period, value):
    budget = BudgetFactory(period=period, start_date=D(2026, 1, 1))
    assert_error(
        owner_client(budget).get(summary_url(budget.pk), {"date": value}), 400, "out_of_range", attr="date"
    )


# Monthly report ------------------------------------------------------------------------------


def test_report_lists_every_month_with_income_expenses_net_and_categories(owner_client):
    budget = BudgetFactory(currency="JPY", amount_minor=100_000)
    food, rent = CategoryFactory(budget=budget, name="Food"), CategoryFactory(budget=budget, name="Rent")
    for day, amount, kind, category in [
        (D(2025, 12, 31), 999, "expense", food),  # before the range
        (D(2026, 1, 1), 300, "expense", food),
        (D(2026, 1, 31), 200, "expense", food),
        (D(2026, 1, 20), 5_000, "income", None),
        (D(2026, 1, 21), 70, "expense", None),
        (D(2026, 3, 31), 80_000, "expense", rent),
        (D(2026, 4, 1), 999, "expense", rent),  # after the range
    ]:
        TransactionFactory(budget=budget, date=day, amount_minor=amount, kind=kind, category=category)
    response = owner_client(budget).get(report_url(budget.pk), {"from": "2026-01", "to": "2026-03"})
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "currency": "JPY",
        "from": "2026-01",
        "to": "2026-03",
        "months": [
            {
                "month": "2026-01",
                "income": "5000",
                "expenses": "570",
                "net": "4430",
                "by_category": [
                    {"id": food.pk, "name": "Food", "expenses": "500"},
                    {"id": None, "name": None, "expenses": "70"},
                ],
            },
            {"month": "2026-02", "income": "0", "expenses": "0", "net": "0", "by_category": []},
            {
                "month": "2026-03",
                "income": "0",
                "expenses": "80000",
                "net": "-80000",
                "by_category": [{"id": rent.pk, "name": "Rent", "expenses": "80000"}],
            },
        ],
    }


def test_report_of_a_budget_with_no_transactions_has_zero_months(owner_client):
    budget = BudgetFactory(currency="BHD")
    body = owner_client(budget).get(report_url(budget.pk), {"from": "2026-11", "to": "2027-02"}).json()
    assert [m["month"] for m in body["months"]] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert {(m["income"], m["expenses"], m["net"]) for m in body["months"]} == {("0.000", "0.000", "0.000")}


def test_report_covers_at_most_36_months(owner_client):
    budget = BudgetFactory()
    client = owner_client(budget)
    ok = client.get(report_url(budget.pk), {"from": "2024-01", "to": "2026-12"})
    assert ok.status_code == 200
    assert len(ok.json()["months"]) == 36
    too_long = client.get(report_url(budget.pk), {"from": "2024-01", "to": "2027-01"})
    assert_error(too_long, 400, "range_too_long", attr="to")


def test_report_with_from_after_to_is_400(owner_client):
    budget = BudgetFactory()
    response = owner_client(budget).get(report_url(budget.pk), {"from": "2026-05", "to": "2026-04"})
    assert_error(response, 400, "invalid_range", attr="from")


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"from": "2026-13"}, "from"),
        ({"from": "2026-1"}, "from"),
        ({"to": "0000-01"}, "to"),
        ({"to": "2026-00"}, "to"),
        ({"to": "2026-01-01"}, "to"),
        ({"from": "abcd-ef"}, "from"),
    ],
)
def test_report_with_a_bad_month_is_400(owner_client, params, attr):
    budget = BudgetFactory()
    assert_error(owner_client(budget).get(report_url(budget.pk), params), 400, attr=attr)


@time_machine.travel(datetime.datetime(2026, 3, 20, 12, tzinfo=datetime.UTC), tick=False)
def test_report_defaults_to_the_twelve_months_up_to_this_one(owner_client):
    budget = BudgetFactory()
    body = owner_client(budget).get(report_url(budget.pk)).json()
    assert (body["from"], body["to"], len(body["months"])) == ("2025-04", "2026-03", 12)


@pytest.mark.parametrize(
    ("params", "first", "last", "count"),
    [
        ({"from": "9999-01", "to": "9999-12"}, "9999-01", "9999-12", 12),
        ({"to": "0001-05"}, "0001-01", "0001-05", 5),
    ],
)
def test_report_at_the_calendars_edges_is_200_not_500(owner_client, params, first, last, count):
    budget = BudgetFactory()
    body = owner_client(budget).get(report_url(budget.pk), params).json()
    assert (body["from"], body["to"], len(body["months"])) == (first, last, count)
    assert (body["months"][0]["month"], body["months"][-1]["month"]) == (first, last)


def test_deleting_a_category_leaves_its_spending_uncategorised(owner_client):
    budget = BudgetFactory(amount_minor=10_000)
    food = CategoryFactory(budget=budget, name="Food")
    tx = TransactionFactory(budget=budget, category=food, amount_minor=700, date=D(2026, 1, 5))
    client = owner_client(budget)
    assert client.delete(f"/api/v1/categories/{food.pk}/").status_code == 204
    tx.refresh_from_db()
    assert tx.category_id is None
    body = client.get(summary_url(budget.pk), {"date": "2026-01-05"}).json()
    assert (body["spent"], body["uncategorised_spent"], body["by_category"]) == ("7.00", "7.00", [])


# The schema's types are the answers' shapes ------------------------------------------------


def _shape(serializer) -> dict:
    """Field name -> nested shape (or None for a leaf), as a client generated from the schema sees it."""
    from rest_framework import serializers

    shape = {}
    for name, field in serializer.fields.items():
        child = field.child if isinstance(field, serializers.ListSerializer) else field
        shape[name] = _shape(child) if isinstance(child, serializers.Serializer) else None
    return shape


def _answer_shape(value) -> dict | None:
    if isinstance(value, list):
        return _answer_shape(value[0]) if value else None
    if isinstance(value, dict):
        return {key: _answer_shape(item) for key, item in value.items()}
    return None


def test_the_summary_answer_has_exactly_the_fields_the_schema_names(owner_client):
    from transactions.reports import BudgetSummarySerializer

    budget = BudgetFactory(currency="EUR", start_date=D(2026, 1, 1), period="monthly")
    food = CategoryFactory(budget=budget, name="Food", allocated_minor=10_000)
    CategoryFactory(budget=budget, name="Rent", allocated_minor=None)
    TransactionFactory(budget=budget, category=food, amount_minor=1_230, date=D(2026, 3, 4))
    body = owner_client(budget).get(summary_url(budget.pk), {"date": "2026-03-10"}).json()
    assert _answer_shape(body) == _shape(BudgetSummarySerializer())
    assert body["by_category"][1]["allocated"] is None  # nullable, as the schema says


def test_the_report_answer_has_exactly_the_fields_the_schema_names(owner_client):
    from transactions.reports import MonthlyReportSerializer

    budget = BudgetFactory(currency="EUR", start_date=D(2026, 1, 1), period="monthly")
    TransactionFactory(budget=budget, category=CategoryFactory(budget=budget), date=D(2026, 2, 4))
    body = owner_client(budget).get(report_url(budget.pk), {"from": "2026-02", "to": "2026-03"}).json()
    assert _answer_shape(body) == _shape(MonthlyReportSerializer())  # read from February's rows
    assert [month["month"] for month in body["months"]] == ["2026-02", "2026-03"]
