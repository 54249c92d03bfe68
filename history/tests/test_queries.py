"""Query counts of the history and sync routes: the same few at any size.

Each client makes one warm-up request first: permission ids are looked up once per
process (permissions/codenames.py), not per request."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household
from households.tests.factories import make_household
from transactions.models import Transaction

pytestmark = pytest.mark.django_db

# The user behind the token, the budget (with the caller's rights), the page of events.
HISTORY_QUERIES = 3
# The user, the household, the budgets shared with it that the caller can view, the page of
# events (read budget by budget in the page's own statement on PostgreSQL).
ACTIVITY_QUERIES = 4
# The user, the budget (with its knowledge), its tombstones, its categories, its transactions
# (and, when any of them is split, one more for the splits' shares, whatever their number).
CHANGES_QUERIES = 5


def _rows(budget, n, *, author, category):
    Transaction.objects.bulk_create(
        Transaction(
            budget=budget,
            category=category,
            created_by=author,
            kind="expense",
            amount_minor=100 + i,
            date=datetime.date(2026, 1, 1),
            payee=f"row {i}",
        )
        for i in range(n)
    )


def _count(client, url, params=None) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.fixture
def household_budget(client_for):
    owner, member = UserFactory(), UserFactory()
    home = make_household(owner, members=[member])
    budget = BudgetFactory(owner=owner)
    share_household(budget, home, "edit")
    category = CategoryFactory(budget=budget)
    client = client_for(member)
    client.get("/api/v1/budgets/")  # warm-up
    return home, budget, category, member, client


@pytest.mark.parametrize(
    ("route", "expected"),
    [("budget", HISTORY_QUERIES), ("category", HISTORY_QUERIES), ("activity", ACTIVITY_QUERIES)],
)
def test_a_history_page_costs_the_same_queries_at_1_and_at_500_events(household_budget, route, expected):
    home, budget, category, member, client = household_budget
    url = {
        "budget": f"/api/v1/budgets/{budget.pk}/history/",
        "category": f"/api/v1/categories/{category.pk}/history/",
        "activity": f"/api/v1/households/{home.pk}/activity/",
    }[route]
    few, _ = _count(client, url, {"limit": 500})
    _rows(budget, 600, author=member, category=category)
    Transaction.objects.filter(budget=budget).update(payee="renamed")  # an event each for the category route
    many, page = _count(client, url, {"limit": 500})
    assert few == many == expected
    if route != "category":
        assert len(page["results"]) == 500 and page["next"]


def test_a_transactions_history_costs_three_queries(household_budget):
    _, budget, category, member, client = household_budget
    _rows(budget, 1, author=member, category=category)
    tx = Transaction.objects.get(budget=budget)
    for n in range(30):
        Transaction.objects.filter(pk=tx.pk).update(notes=f"note {n}")
    queries, page = _count(client, f"/api/v1/transactions/{tx.pk}/history/")
    assert queries == HISTORY_QUERIES
    assert len(page["results"]) == 31


def test_changes_cost_the_same_queries_at_1_and_at_500_rows(household_budget):
    _, budget, category, member, client = household_budget
    url = f"/api/v1/budgets/{budget.pk}/changes/"
    _rows(budget, 1, author=member, category=category)
    few, body = _count(client, url, {"last_knowledge_of_server": 0})
    assert len(body["transactions"]) == 1
    _rows(budget, 500, author=member, category=category)
    Transaction.objects.filter(pk__in=Transaction.objects.filter(budget=budget).values("pk")[:10]).delete()
    many, body = _count(client, url, {"last_knowledge_of_server": 0})
    assert few == many == CHANGES_QUERIES
    assert len(body["transactions"]) == 501
