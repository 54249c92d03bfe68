"""The list for callers who see many budgets (an adviser with admin "view" grants, issue 16):
exact pages, and the same few queries at 1, 250 and 2,000 visible budgets, by offset and
by cursor.

The rows are skewed against the window (transactions/pagination.py): the ten budgets with the
most rows, the ones its sample starts from, hold only old rows, and the newest rows are spread
one to three to a budget over the others, with many ties on the date."""

import datetime
import random
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetUserObjectPermission, GrantSource
from budgets.shares import VIEW_CODENAME, codename_id
from transactions.models import Transaction

pytestmark = pytest.mark.django_db

LIST = "/api/v1/transactions/"
SIZES = (1, 250, 2_000)
ORDER_FOR = {
    "": ("-date", "-id"),
    "date": ("date", "id"),
    "amount": ("amount_minor", "id"),
    "-amount": ("-amount_minor", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
}
PAYEES = ("Rail", "Bakery", "railcard shop", "Garage")


@pytest.fixture
def advisers(client_for):
    """{visible budgets: (adviser, client)}: admin "view" grants (as the staff grants API
    writes them, in bulk) on the first 1, 250 and 2,000 of 2,000 budgets."""
    owner, staff = UserFactory(), UserFactory(is_staff=True)
    budgets = Budget.objects.bulk_create(
        Budget(
            owner=owner,
            name=f"Client {i}",
            amount_minor=100_000,
            currency="EUR",
            period="monthly",
            start_date=datetime.date(2023, 1, 1),
        )
        for i in range(max(SIZES))
    )
    rng = random.Random(16)
    rows = []
    for index, budget in enumerate(budgets):
        old = index < 10
        # The first (the only one the 1-budget adviser sees) holds more than the deepest offset.
        for _ in range(2_100 if index == 0 else 30 if old else rng.randint(1, 3)):
            day = datetime.date(2023, 3, 1) if old else datetime.date(2026, 1, 1)
            rows.append(
                Transaction(
                    budget=budget,
                    created_by=owner,
                    kind="income" if rng.random() < 0.2 else "expense",
                    amount_minor=rng.randint(1, 2_000),
                    date=day + datetime.timedelta(days=rng.randrange(40)),
                    payee=rng.choice(PAYEES),
                )
            )
    Transaction.objects.bulk_create(rows, batch_size=2_000)
    view = codename_id(VIEW_CODENAME)
    found = {}
    for size in SIZES:
        adviser = UserFactory()
        BudgetUserObjectPermission.objects.bulk_create(
            BudgetUserObjectPermission(
                content_object=budget,
                user=adviser,
                permission_id=view,
                source=GrantSource.ADMIN,
                granted_by=staff,
            )
            for budget in budgets[:size]
        )
        client = client_for(adviser)
        client.get(LIST)  # warm-up: permission ids are looked up once per process
        found[size] = (adviser, client)
    return found


def expected(adviser, params: dict) -> tuple[int, list[int]]:
    rows = Transaction.objects.visible_to(adviser)
    if "kind" in params:
        rows = rows.filter(kind=params["kind"])
    if "amount_min" in params:
        rows = rows.filter(amount_minor__gte=round(float(params["amount_min"]) * 100))
    if "search" in params:
        rows = rows.filter(payee__icontains=params["search"])
    ids = list(rows.order_by(*ORDER_FOR[params.get("ordering", "")]).values_list("id", flat=True))
    offset, limit = int(params.get("offset", 0)), int(params.get("limit", 50))
    return len(ids), ids[offset : offset + limit]


REQUESTS = [
    {},
    {"ordering": "amount"},
    {"ordering": "-created_at", "offset": 40},
    {"ordering": "date", "offset": 33, "limit": 7},
    {"offset": 2_000, "limit": 20},
    {"limit": 500},
    {"amount_min": "5.00"},
    {"search": "rail", "ordering": "-amount"},
    {"kind": "income", "offset": 5},
]


@pytest.mark.parametrize(
    "params", REQUESTS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "plain"
)
def test_pages_are_exact_and_cost_the_same_queries_at_1_250_and_2000_budgets(advisers, params):
    queries = {}
    for size, (adviser, client) in advisers.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, params)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        count, ids = expected(adviser, params)
        assert body["count"] == count, size
        assert [row["id"] for row in body["results"]] == ids, size
        queries[size] = len(captured)
    # The token's user, the rows per budget (the count), the page; never one per budget.
    assert len(set(queries.values())) == 1, queries
    assert queries[2_000] <= 3


@pytest.mark.parametrize("ordering", ["", "amount", "-created_at"])
def test_a_cursor_walk_costs_the_same_queries_at_1_250_and_2000_budgets(advisers, ordering):
    for size, (adviser, client) in advisers.items():
        url, seen, queries = f"{LIST}?cursor=start&limit=400&ordering={ordering}", [], set()
        while url:
            with CaptureQueriesContext(connection) as captured:
                body = client.get(url).json()
            queries.add(len(captured))
            assert "count" not in body
            seen += [row["id"] for row in body["results"]]
            url = body["next"] and "{0.path}?{0.query}".format(urlsplit(body["next"]))
        _, every = expected(adviser, {"ordering": ordering, "limit": 10**6})
        assert seen == every, size
        # The token's user, the counters (which budgets hold rows; no count), the page.
        assert queries == {3}, (size, queries)


def test_the_window_path_serves_many_budgets_on_postgresql(advisers):
    """2,000 budgets: one statement for the page's ids, with no LATERAL branch per budget in
    its text, and no plain sort of every visible row."""
    _, client = advisers[2_000]
    with CaptureQueriesContext(connection) as captured:
        client.get(LIST, {"ordering": "amount", "offset": 100})
    page = captured.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "page_budget" in page and page.count("CROSS JOIN LATERAL") == 2
    else:
        assert "page_budget" not in page
