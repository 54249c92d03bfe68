"""Property: whatever amounts are recorded, the summary, the monthly report and the export
equal the exact Decimal sums, in currencies with 2 (EUR), 0 (JPY) and 3 (BHD) minor units."""

import datetime
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, CategoryFactory
from money.amounts import MAX_MINOR
from transactions.models import Transaction
from transactions.tests.helpers import BULK, EXPORT, csv_rows, report_url, summary_url

pytestmark = pytest.mark.django_db

PLACES = {"EUR": 2, "JPY": 0, "BHD": 3}
# The largest amount the API accepts in each currency (just under MAX_MINOR minor units).
FIRST_DAY, LAST_DAY = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)
SUMMARY_DAY = datetime.date(2026, 2, 15)  # monthly budgets from 2026-01-01: the period is February
MONTHS = ("2026-01", "2026-02", "2026-03")


def amounts(currency):
    places = PLACES[currency]
    return st.decimals(
        min_value=Decimal(1).scaleb(-places),
        max_value=Decimal(MAX_MINOR - 1).scaleb(-places),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


def rows(currency):
    row = st.tuples(
        st.sampled_from(["expense", "income"]),
        amounts(currency),
        st.dates(min_value=FIRST_DAY, max_value=LAST_DAY),
        st.sampled_from([None, 0, 1]),  # uncategorised, or one of the budget's two categories
    )
    return st.lists(row, max_size=20)


def money(value: Decimal, currency: str) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-PLACES[currency])):f}"


def total(entries, *, kind=None, month=None, category="any") -> Decimal:
    return sum(
        (
            amount
            for k, amount, day, cat in entries
            if (kind is None or k == kind)
            and (month is None or day.strftime("%Y-%m") == month)
            and (category == "any" or cat == category)
        ),
        Decimal(0),
    )


@pytest.fixture
def books(client_for):
    owner = UserFactory()
    budgets, categories = {}, {}
    for currency, amount_minor in (("EUR", 123_456), ("JPY", 98_765), ("BHD", 1_000_001)):
        budget = BudgetFactory(owner=owner, currency=currency, amount_minor=amount_minor, name=currency)
        budgets[currency] = budget
        categories[currency] = [
            CategoryFactory(budget=budget, name="A"),
            CategoryFactory(budget=budget, name="B"),
        ]
    return client_for(owner), budgets, categories


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(eur=rows("EUR"), jpy=rows("JPY"), bhd=rows("BHD"))
def test_summary_report_and_export_equal_the_exact_decimal_sums(books, eur, jpy, bhd):
    client, budgets, categories = books
    Transaction.objects.all().delete()
    cache.clear()  # throttle counters: each example starts fresh
    generated = {"EUR": eur, "JPY": jpy, "BHD": bhd}

    for currency, entries in generated.items():
        if not entries:
            continue
        cats = categories[currency]
        items = [
            {
                "budget": budgets[currency].pk,
                "category": None if cat is None else cats[cat].pk,
                "kind": kind,
                "amount": f"{amount:f}",
                "date": day.isoformat(),
            }
            for kind, amount, day, cat in entries
        ]
        response = client.post(BULK, items)
        assert response.status_code == 201, response.content[:500]
        assert [item["amount"] for item in response.json()] == [money(a, currency) for _, a, _, _ in entries]

    for currency, entries in generated.items():
        budget, cats = budgets[currency], categories[currency]
        in_period = [e for e in entries if e[2].strftime("%Y-%m") == "2026-02"]
        spent = total(in_period, kind="expense")
        budget_amount = Decimal(budget.amount_minor).scaleb(-PLACES[currency])
        summary = client.get(summary_url(budget.pk), {"date": SUMMARY_DAY.isoformat()}).json()
        assert summary["spent"] == money(spent, currency)
        assert summary["income"] == money(total(in_period, kind="income"), currency)
        assert summary["remaining"] == money(budget_amount - spent, currency)
        assert summary["percent_used"] == str(
            (spent * 100 / budget_amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        )
        assert [c["spent"] for c in summary["by_category"]] == [
            money(total(in_period, kind="expense", category=i), currency) for i in range(len(cats))
        ]
        assert summary["uncategorised_spent"] == money(
            total(in_period, kind="expense", category=None), currency
        )

        report = client.get(report_url(budget.pk), {"from": MONTHS[0], "to": MONTHS[-1]}).json()
        assert [m["month"] for m in report["months"]] == list(MONTHS)
        for month in report["months"]:
            income = total(entries, kind="income", month=month["month"])
            expenses = total(entries, kind="expense", month=month["month"])
            assert month["income"] == money(income, currency)
            assert month["expenses"] == money(expenses, currency)
            assert month["net"] == money(income - expenses, currency)
            by_category = {c["id"]: c["expenses"] for c in month["by_category"]}
            expected = {
                (None if i is None else cats[i].pk): money(
                    total(entries, kind="expense", month=month["month"], category=i), currency
                )
                for i in (0, 1, None)
                if any(
                    k == "expense" and d.strftime("%Y-%m") == month["month"] and c == i
                    for k, _, d, c in entries
                )
            }
            assert by_category == expected

    exported = csv_rows(client.get(EXPORT))[1:]
    assert len(exported) == sum(len(entries) for entries in generated.values())
    for currency, entries in generated.items():
        amounts_out = [row[6] for row in exported if row[4] == currency]
        assert Counter(amounts_out) == Counter(money(a, currency) for _, a, _, _ in entries)
        assert sum(map(Decimal, amounts_out), Decimal(0)) == total(entries)
