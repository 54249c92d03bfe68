import datetime
import random
import re
from collections import Counter
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from budgets.models import Budget, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_user
from households.tests.factories import make_household
from transactions.models import Transaction
from transactions.tests.helpers import walk

pytestmark = pytest.mark.django_db

LIST = "/api/v1/transactions/"


@pytest.fixture
def member_with_three_budgets():
    """A member who sees their own budget and two shared by a housemate: the top-N path."""
    member, partner = UserFactory(), UserFactory()
    make_household(partner, members=[member])
    budgets = [BudgetFactory(owner=member), BudgetFactory(owner=partner), BudgetFactory(owner=partner)]
    share_user(budgets[1], member, "view")
    share_user(budgets[2], member, "edit")
    rng = random.Random(7)
    rows = [
        Transaction(
            budget=budgets[i % 3],
            created_by=member,
            kind="expense",
            amount_minor=rng.randint(1, 5000),
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(60)),
            payee=f"payee {i}",
        )
        for i in range(90)
    ]
    Transaction.objects.bulk_create(rows)
    BudgetFactory()  # someone else's budget, never in the page
    return member


def expected_ids(ordering: str) -> list[int]:
    field = {"date": "date", "amount": "amount_minor", "created_at": "created_at"}[ordering.lstrip("-")]
    rows = list(Transaction.objects.values_list("id", field))
    return [pk for pk, _ in sorted(rows, key=lambda r: (r[1], r[0]), reverse=ordering.startswith("-"))]


@pytest.fixture(params=["compiled", "built"])
def page_sql(request, monkeypatch):
    """On PostgreSQL, an unfiltered or one-budget list's page comes from SQL compiled once
    (transactions/pagination.py compiled_page); other lists build it per request. Both
    must give the same pages: "built" turns compiling off. Each test compiles afresh."""
    from server import compiled
    from transactions import pagination

    monkeypatch.setattr(compiled, "_compiled", {})
    if request.param == "built":
        monkeypatch.setattr(pagination, "COMPILE_PAGES", False)
    return request.param


@pytest.mark.parametrize("ordering", ["-date", "date", "-amount", "amount", "-created_at"])
@pytest.mark.parametrize(("offset", "limit"), [(0, 10), (25, 20), (85, 10), (0, 500)])
def test_pages_follow_the_requested_order_exactly(
    client_for, member_with_three_budgets, page_sql, ordering, offset, limit
):
    client = client_for(member_with_three_budgets)
    response = client.get(LIST, {"ordering": ordering, "offset": offset, "limit": limit})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 90
    assert [r["id"] for r in body["results"]] == expected_ids(ordering)[offset : offset + limit]


@pytest.mark.parametrize("ordering", ["-date", "amount"])
def test_one_budgets_pages_hold_only_its_rows_in_order(
    client_for, member_with_three_budgets, page_sql, ordering
):
    """?budget= is the other list the compiled page serves; the same SQL, sent for each
    budget in turn (and again for the first), gives each budget's own rows."""
    client = client_for(member_with_three_budgets)
    budgets = sorted(set(Transaction.objects.values_list("budget_id", flat=True)))
    for budget in [*budgets, budgets[0]]:
        body = client.get(LIST, {"budget": budget, "ordering": ordering, "offset": 3, "limit": 20}).json()
        mine = set(Transaction.objects.filter(budget_id=budget).values_list("pk", flat=True))
        assert body["count"] == len(mine) == 30
        assert [r["id"] for r in body["results"]] == [pk for pk in expected_ids(ordering) if pk in mine][3:23]


def test_default_order_is_newest_date_then_id(client_for, member_with_three_budgets):
    body = client_for(member_with_three_budgets).get(LIST, {"limit": 30}).json()
    assert [r["id"] for r in body["results"]] == expected_ids("-date")[:30]


def test_offset_past_the_end_is_an_empty_page(client_for, member_with_three_budgets):
    body = client_for(member_with_three_budgets).get(LIST, {"offset": 500}).json()
    assert body["count"] == 90
    assert body["results"] == []


def test_filters_apply_inside_each_budgets_top_n(client_for, member_with_three_budgets):
    client = client_for(member_with_three_budgets)
    body = client.get(LIST, {"date_after": "2026-01-20", "date_before": "2026-01-31", "limit": 500}).json()
    expected = [
        pk
        for pk in expected_ids("-date")
        if datetime.date(2026, 1, 20) <= Transaction.objects.get(pk=pk).date <= datetime.date(2026, 1, 31)
    ]
    assert body["count"] == len(expected)
    assert [r["id"] for r in body["results"]] == expected


def test_list_runs_at_most_four_queries_with_several_budgets(
    client_for, member_with_three_budgets, django_assert_max_num_queries
):
    client = client_for(member_with_three_budgets)
    # The token's user, rows per visible budget (the count), then on PostgreSQL the page's
    # ids by per-budget top-N and the page's rows; on SQLite one plain page query.
    with django_assert_max_num_queries(4) as captured:
        response = client.get(LIST, {"limit": 50})
    assert len(response.json()["results"]) == 50
    used_top_n = any("CROSS JOIN LATERAL" in q["sql"] for q in captured.captured_queries)
    # PostgreSQL takes the per-budget top-N; SQLite (no LATERAL) the plain query.
    assert used_top_n == (connection.vendor == "postgresql")


def test_a_row_that_left_the_callers_budgets_between_queries_is_not_shown(
    client_for, member_with_three_budgets, page_sql, monkeypatch
):
    """The page's rows are read by id without repeating the scoping predicate (it misleads
    the planner); a row whose budget is no longer among the caller's, as when an editor
    moves it away between the two queries, is dropped. Simulated by slipping a foreign id
    into the page's ids, compiled or built, by offset or by cursor."""
    from django.db.models.expressions import RawSQL

    from transactions import pagination
    from transactions.tests.factories import TransactionFactory

    foreign = TransactionFactory(date=datetime.date(2026, 12, 31))  # newest: first in the order
    real = pagination.window_sql
    calls = []

    def with_foreign_row(queryset, **page):
        calls.append(page["budgets"])
        ids = real(queryset, **page)
        return RawSQL(f"SELECT %s UNION ALL ({ids.sql})", (foreign.pk, *ids.params))

    monkeypatch.setattr(pagination, "window_sql", with_foreign_row)
    for params in ({"limit": 50}, {"limit": 50, "cursor": "start"}):
        body = client_for(member_with_three_budgets).get(LIST, params).json()
        ids = [row["id"] for row in body["results"]]
        assert foreign.pk not in ids
        assert ids == [pk for pk in expected_ids("-date") if pk != foreign.pk][:50]
    # PostgreSQL reads the page this way (compiled once, or built for each request); SQLite
    # reads it from the scoped query directly.
    expected_calls = {"compiled": 1, "built": 2}[page_sql] if connection.vendor == "postgresql" else 0
    assert len(calls) == expected_calls


def test_the_window_reads_only_budgets_of_the_callers_scope(
    client_for, member_with_three_budgets, page_sql, monkeypatch
):
    """The window's SQL checks its budget list against the caller's scope itself: a foreign
    budget slipped into the list the counters gave (and so into the paginator's own check of
    the rows' budgets) still yields none of its rows."""
    from transactions import pagination
    from transactions.tests.factories import TransactionFactory

    stranger_budget = BudgetFactory()
    foreign = TransactionFactory.create_batch(5, budget=stranger_budget, date=datetime.date(2026, 12, 31))
    real = pagination.transaction_counts_by_budget

    def with_a_foreign_budget(*, user):
        return {**real(user=user), stranger_budget.pk: 5}

    monkeypatch.setattr(pagination, "transaction_counts_by_budget", with_a_foreign_budget)
    client = client_for(member_with_three_budgets)
    foreign_ids = {tx.pk for tx in foreign}
    for params in ({"limit": 500}, {"limit": 500, "cursor": "start"}, {"ordering": "amount", "offset": 3}):
        body = client.get(LIST, params).json()
        assert not foreign_ids & {row["id"] for row in body["results"]}, params
    if connection.vendor == "postgresql":
        body = client.get(LIST, {"limit": 500}).json()
        assert [row["id"] for row in body["results"]] == [
            pk for pk in expected_ids("-date") if pk not in foreign_ids
        ]


def test_a_one_budget_page_reads_nothing_of_a_budget_outside_the_callers_scope(
    client_for, member_with_three_budgets, page_sql, monkeypatch
):
    """A narrowed list whose count holds one budget reads its page from that budget alone
    (ids_first; compiled on PostgreSQL, its right checked once for the statement). A foreign
    budget slipped into the count, as a share revoked between the count and the page would
    leave it, yields none of its rows; the caller's own budget still gives its page."""
    from transactions.pagination import TransactionPagination
    from transactions.tests.factories import TransactionFactory

    stranger_budget = BudgetFactory()
    foreign = TransactionFactory.create_batch(3, budget=stranger_budget, kind="expense")
    own = Budget.objects.get(owner=member_with_three_budgets)
    own_rows = set(own.transactions.values_list("pk", flat=True))
    counted = {}
    monkeypatch.setattr(TransactionPagination, "rows_per_budget", lambda self, queryset, request: counted)
    client = client_for(member_with_three_budgets)
    for ordering in ("-date", "-amount"):
        counted.clear()
        counted[stranger_budget.pk] = len(foreign)
        body = client.get(LIST, {"kind": "expense", "ordering": ordering}).json()
        assert body["results"] == [], ordering
        counted.clear()
        counted[own.pk] = 30
        body = client.get(LIST, {"kind": "expense", "ordering": ordering, "limit": 5, "offset": 2}).json()
        mine = [pk for pk in expected_ids(ordering) if pk in own_rows]
        assert [row["id"] for row in body["results"]] == mine[2:7], ordering


def test_narrowed_counts_stay_exact_when_the_statements_are_reused(client_for, member_with_three_budgets):
    """Each narrowed count and page, sent again and again with other values (PostgreSQL
    prepares them after the second run and may then plan them once for any value), still
    counts exactly the matching rows of the caller's budgets."""
    client = client_for(member_with_three_budgets)
    visible = Transaction.objects.all()  # the fixture's 90 rows are all in the member's budgets
    for day in range(1, 60, 4):
        start = datetime.date(2026, 1, 1) + datetime.timedelta(days=day)
        end = start + datetime.timedelta(days=day % 9)
        low = day * 70
        body = client.get(
            LIST, {"date_after": start, "date_before": end, "amount_min": f"{low / 100:.2f}", "limit": 500}
        ).json()
        expected = visible.filter(date__gte=start, date__lte=end, amount_minor__gte=low)
        assert body["count"] == expected.count()
        assert sorted(r["id"] for r in body["results"]) == sorted(expected.values_list("pk", flat=True))


def test_a_searched_list_is_planned_for_its_term(client_for, member_with_three_budgets, monkeypatch):
    """A search's statements are sent unprepared on PostgreSQL, so they are planned for the term
    each time: a generic plan read the trigram index once per budget (planned_for_their_values).
    The connection's own setting is back afterwards; other lists stay prepared."""
    from transactions import pagination

    seen = []
    real = pagination.planned_for_their_values

    def spy(alias, when):
        seen.append(when)
        return real(alias, when)

    monkeypatch.setattr(pagination, "planned_for_their_values", spy)
    client = client_for(member_with_three_budgets)
    for params in ({"search": "payee 1"}, {"search": "payee 1", "cursor": "start"}, {"kind": "expense"}):
        assert client.get(LIST, params).status_code == 200
    assert seen == [True, True, False]
    if connection.vendor == "postgresql":
        configured = connection.settings_dict["OPTIONS"].get("prepare_threshold")
        assert connection.connection.prepare_threshold == configured
        with real(connection.alias, True):
            assert connection.connection.prepare_threshold is None
        assert connection.connection.prepare_threshold == configured


def test_a_narrowed_page_joins_only_its_own_rows(client_for):
    """A filtered list of one budget chooses the page's ids first and joins only those rows to
    their budget, recorder and split (ids_first): joined first, PostgreSQL joined every row of
    the bench's 3-month filter (category, dates, by amount: 2,057 rows, 5.3 ms) before its
    top-N sort (EXPLAIN of both in docs/performance.md). Whether a planner sorts first depends
    on the data's spread, so what is checked is the statement's shape: the page's rows are
    those of a LIMITed subquery of ids."""
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    groceries, rent = CategoryFactory(budget=budget), CategoryFactory(budget=budget)
    Transaction.objects.bulk_create(
        Transaction(
            budget=budget,
            category=rent if i % 8 else groceries,
            created_by=owner,
            kind="expense",
            amount_minor=1 + (i * 37) % 1000,
            date=datetime.date(2025, 1, 1) + datetime.timedelta(days=i % 700),
            payee=f"payee {i}",
        )
        for i in range(400)
    )
    params = {
        "category": groceries.pk,
        "date_after": "2025-01-01",
        "date_before": "2025-12-31",
        "ordering": "-amount",
        "limit": 10,
    }
    expected = Transaction.objects.filter(category=groceries, date__year=2025)
    expected = expected.order_by("-amount_minor", "-id")
    with CaptureQueriesContext(connection) as queries:
        body = client_for(owner).get(LIST, params).json()
    assert body["count"] == expected.count() > 10
    assert [row["id"] for row in body["results"]] == list(expected.values_list("pk", flat=True)[:10])
    page = [query["sql"] for query in queries.captured_queries if 'AS "created_by__email"' in query["sql"]]
    assert len(page) == 1
    assert '"transactions_transaction"."id" IN (SELECT ' in page[0], page[0]


@pytest.mark.parametrize("ordering", ["-date", "amount"])
def test_each_caller_gets_their_own_rows_for_every_compiled_filter(client_for, page_sql, ordering):
    """On PostgreSQL a list narrowed by ids, kind, dates and amounts runs statements compiled once per
    set of filters (transactions/pagination.py Narrowing) and shared by every caller: two
    callers in turn, each filter alone and together, the count and the page are what the
    caller's own rows give, compiled and built alike (page_sql)."""
    member, partner = UserFactory(), UserFactory()
    make_household(partner, members=[member])
    own, shared, partners = (
        BudgetFactory(owner=member),
        BudgetFactory(owner=partner),
        BudgetFactory(owner=partner),
    )
    share_user(shared, member, "view")
    categories = {budget.pk: CategoryFactory(budget=budget) for budget in (own, shared, partners)}
    rng = random.Random(11)
    Transaction.objects.bulk_create(
        Transaction(
            budget=budget,
            category=categories[budget.pk] if i % 3 else None,
            created_by=member if i % 2 else partner,
            kind="income" if i % 5 == 0 else "expense",
            amount_minor=rng.randint(1, 5000),
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(60)),
            payee=f"payee {i}",
        )
        for i, budget in enumerate([own, shared, partners] * 40)
    )
    cases = [
        {"kind": "income"},
        {"date_after": "2026-01-10", "date_before": "2026-02-10"},
        {"date_after": "2026-02-01"},
        {"category": categories[shared.pk].pk},
        {"created_by": partner.pk},
        {"budget": shared.pk, "kind": "expense", "date_before": "2026-02-15"},
        {"category": categories[own.pk].pk, "created_by": member.pk, "date_after": "2026-01-05"},
        {"amount_min": "12.50"},
        {"amount_max": "20", "kind": "expense"},
        {"amount_min": "5", "amount_max": "30.01", "date_after": "2026-01-15"},
        {"budget": shared.pk, "amount_min": "25"},
    ]
    field = {"date": "date", "amount": "amount_minor"}[ordering.lstrip("-")]
    for caller in (member, partner, member):
        client = client_for(caller)
        visible = list(Transaction.objects.visible_to(caller).values())
        for case in cases:
            response = client.get(LIST, {**case, "ordering": ordering, "offset": 2, "limit": 7})
            if "category" in case and not Category.objects.visible_to(caller).filter(pk=case["category"]):
                assert response.status_code == 400  # a category the caller cannot see
                continue
            matching = [row for row in visible if _matches(row, case)]
            matching.sort(key=lambda row: (row[field], row["id"]), reverse=ordering.startswith("-"))
            body = response.json()
            assert body["count"] == len(matching), (caller, case)
            assert [r["id"] for r in body["results"]] == [row["id"] for row in matching[2:9]], (caller, case)
    if connection.vendor == "postgresql" and page_sql == "compiled":
        from server import compiled

        shapes = {key[0] for _, key in compiled._compiled}
        assert {"transaction-count", "transaction-ids-first", "transaction-window"} <= shapes
        counted = {key[1:] for _, key in compiled._compiled if key[0] == "transaction-count"}
        assert (("amount_max", "amount_min", "date_after"), False) in counted
        # One amount bound alone may be counted as the total less the rows outside it.
        assert (("amount_min",), True) in counted


def _matches(row: dict, case: dict) -> bool:
    checks = {
        "kind": lambda value: row["kind"] == value,
        "date_after": lambda value: row["date"] >= datetime.date.fromisoformat(value),
        "date_before": lambda value: row["date"] <= datetime.date.fromisoformat(value),
        "category": lambda value: row["category_id"] == value,
        "created_by": lambda value: row["created_by_id"] == value,
        "budget": lambda value: row["budget_id"] == value,
        # The budgets are in EUR: two places.
        "amount_min": lambda value: row["amount_minor"] >= Decimal(value) * 100,
        "amount_max": lambda value: row["amount_minor"] <= Decimal(value) * 100,
    }
    return all(checks[name](value) for name, value in case.items())


# Amounts are stored up to MAX_MINOR (10**12 minor units) and ids are bigints.
_PAST_32_BITS = [1, 2**31 - 1, 2**31, 3_000_000_000, 10**12 - 1]


@pytest.fixture
def amounts_past_32_bits():
    """An owner with a EUR and a JPY budget (EUR 30,000,000.00 and JPY 3,000,000,000 are both
    3,000,000,000 minor units), holding amounts each side of 2**31 - 1, with ids past it."""
    owner = UserFactory()
    euros, yen = BudgetFactory(owner=owner, currency="EUR"), BudgetFactory(owner=owner, currency="JPY")
    Transaction.objects.bulk_create(
        Transaction(
            pk=2**31 + 10 * i + n,
            budget=budget,
            created_by=owner,
            kind="expense",
            amount_minor=minor,
            date=datetime.date(2026, 1, 1 + i),
            payee=f"payee {i}",
        )
        for i, minor in enumerate(_PAST_32_BITS)
        for n, budget in enumerate((euros, yen))
    )
    return owner


@pytest.mark.parametrize("name", ["amount_min", "amount_max"])
@pytest.mark.parametrize(
    "bound",
    ["21474836.47", "21474836.48", "30000000", "3000000000", "9999999999.99", "9999999999999999.9999"],
)
def test_amount_bounds_past_32_bits_keep_exactly_their_rows(
    client_for, amounts_past_32_bits, page_sql, name, bound
):
    """A bound of more than 2**31 - 1 minor units is compared as the bigint it is, compiled or
    built, up to the largest the filter takes (more than a bigint in a 4-place currency):
    sent untyped it became an int4, and amount_min=30000000 listed every row."""
    rows = Transaction.objects.filter(budget__owner=amounts_past_32_bits).select_related("budget")
    expected = sorted(
        row.pk
        for row in rows
        if (row.amount >= Decimal(bound) if name == "amount_min" else row.amount <= Decimal(bound))
    )
    response = client_for(amounts_past_32_bits).get(LIST, {name: bound, "ordering": "amount", "limit": 500})
    assert response.status_code == 200, response.json()
    assert response.json()["count"] == len(expected)
    assert sorted(row["id"] for row in response.json()["results"]) == expected
    assert 0 < len(expected) < 10 or bound in ("9999999999.99", "9999999999999999.9999")


@pytest.mark.parametrize("ordering", ["amount", "-amount", "date"])
def test_a_cursor_walks_past_32_bit_amounts_and_ids(client_for, amounts_past_32_bits, ordering):
    """A cursor's position (an amount up to 10**12 minor units, an id) is a bigint in SQL."""
    seen, _ = walk(client_for(amounts_past_32_bits), {"ordering": ordering, "limit": 3})
    assert seen == expected_ids(ordering)
    assert len(seen) == 10


@pytest.fixture
def few_large_amounts():
    """A member's big budget with 3 rows of EUR 400 or more among 300, a housemate's budget
    with 50 among 60 and a small one with 2 among 10, recorded mostly by the member: for an
    amount bound or the housemate as recorder, the big budget is "sparse" (window_sql)."""
    member, partner = UserFactory(), UserFactory()
    make_household(partner, members=[member])
    big, busy, small = BudgetFactory(owner=member), BudgetFactory(owner=partner), BudgetFactory(owner=partner)
    share_user(busy, member, "view")
    share_user(small, member, "edit")
    rng = random.Random(21)
    rows = []
    for budget, total, large in ((big, 300, 3), (busy, 60, 50), (small, 10, 2)):
        for i in range(total):
            rows.append(
                Transaction(
                    budget=budget,
                    created_by=partner if (budget is big and i % 100 == 7) or budget is busy else member,
                    kind="expense",
                    amount_minor=rng.randint(40_000, 90_000) if i < large else rng.randint(1, 39_999),
                    date=datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(90)),
                    payee=f"payee {i}",
                )
            )
    Transaction.objects.bulk_create(rows)
    return member, partner


@pytest.mark.parametrize("ordering", ["-date", "amount", "-created_at"])
@pytest.mark.parametrize(("offset", "limit"), [(0, 5), (3, 10), (0, 100)])
def test_budgets_with_few_matching_rows_are_read_by_their_filter_and_pages_stay_exact(
    client_for, few_large_amounts, page_sql, ordering, offset, limit
):
    """A budget of an amount-bounded (or recorder-filtered) list with no more matching rows
    than the page's depth is read through its filter's index and sorted, not walked along
    the order (window_sql); beside budgets that are walked, compiled and built, the pages are
    those of the plain order."""
    member, partner = few_large_amounts
    client = client_for(member)
    field = {"date": "date", "amount": "amount_minor", "created_at": "created_at"}[ordering.lstrip("-")]
    cases = [
        ({"amount_min": "400"}, Q(amount_minor__gte=40_000)),
        ({"amount_max": "399.99", "kind": "expense"}, Q(amount_minor__lte=39_999)),
        ({"created_by": partner.pk}, Q(created_by=partner)),
    ]
    for params, matching in cases:
        expected = Transaction.objects.filter(matching).order_by(
            *((f"-{field}", "-id") if ordering.startswith("-") else (field, "id"))
        )
        with CaptureQueriesContext(connection) as queries:
            body = client.get(LIST, {**params, "ordering": ordering, "offset": offset, "limit": limit}).json()
        assert body["count"] == expected.count(), params
        assert [r["id"] for r in body["results"]] == list(expected.values_list("pk", flat=True))[
            offset : offset + limit
        ], params
        found = any("OFFSET 0) AS fenced" in query["sql"] for query in queries.captured_queries)
        # Sparse: a budget with no more matching rows than offset+limit (the big one has 3 for
        # the amount bound and for the recorder; 297, 10 and 8 match the upper bound).
        per_budget = Counter(expected.values_list("budget_id", flat=True))
        sparse = any(rows <= offset + limit for rows in per_budget.values())
        assert found == (connection.vendor == "postgresql" and sparse), params
        assert sparse or "amount_max" in params


def _generic_plan(sql: str, params) -> list[dict]:
    """The plan PostgreSQL keeps for ``sql`` once it is prepared and planned generically, as a
    worker's psycopg prepares a statement it has sent five times: every node of it."""
    from psycopg import sql as literal

    driver = connection.connection
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        driver.execute(sql, params, prepare=True).fetchall()
        name, types = driver.execute(
            "SELECT name, parameter_types::text[] FROM pg_prepared_statements "
            "WHERE statement LIKE '%%AS fenced%%' ORDER BY prepare_time DESC LIMIT 1"
        ).fetchone()
        values = ", ".join(
            f"{literal.Literal(value).as_string(driver)}::{kind}"
            for value, kind in zip(params, types, strict=True)
        )
        ((plan,),) = driver.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {name}({values})").fetchall()
    return _plan_nodes(plan)


def _plan_nodes(plan) -> list[dict]:
    """Every node of an ``EXPLAIN (FORMAT JSON)`` plan, subplans included."""
    nodes, pending = [], [plan[0]["Plan"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", ()))
    return nodes


@contextmanager
def _statements_sent():
    """The (sql, params) of each statement the connection sends inside, as sent."""
    sent = []

    def keep(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        yield sent


@pytest.mark.django_db(transaction=True)
def test_a_sparse_budgets_rows_are_found_in_the_amount_index_by_the_prepared_page(client_for):
    """The page statement of an amount-bounded list finds a sparse budget's rows by their range
    of tx_budget_amount_idx, index-only (it holds the date), also in the generic plan a worker
    uses once the statement is prepared. Without the date there, that plan read the budget
    whole through the category index and tested the bound on every row (migration 0010).
    The big budget is big enough that the planner weighs indexes, not a scan of the table,
    and the table is vacuumed, as a served one is, so that index-only scans are costed as
    such (hence a transaction test: VACUUM cannot run inside the test's transaction)."""
    member = UserFactory()
    rng = random.Random(5)
    rows = []
    for budget, total, large in (
        (BudgetFactory(owner=member), 4000, 3),
        (BudgetFactory(owner=member), 40, 30),
    ):
        category = CategoryFactory(budget=budget)
        rows += [
            Transaction(
                budget=budget,
                category=category,
                created_by=member,
                kind="expense",
                amount_minor=rng.randint(40_000, 90_000) if i < large else rng.randint(1, 39_999),
                date=datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(300)),
                payee=f"payee {i}",
            )
            for i in range(total)
        ]
    Transaction.objects.bulk_create(rows)
    with _statements_sent() as sent:
        body = client_for(member).get(LIST, {"amount_min": "400", "limit": 5}).json()
    expected = Transaction.objects.filter(amount_minor__gte=40_000).order_by("-date", "-id")
    assert [row["id"] for row in body["results"]] == list(expected.values_list("pk", flat=True)[:5])
    if connection.vendor != "postgresql":
        (index,) = [i for i in Transaction._meta.indexes if i.name == "tx_budget_amount_idx"]
        assert index.include == ("date", "kind")
        return
    ((sql, params),) = [(sql, params) for sql, params in sent if "AS fenced" in sql]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE transactions_transaction")
    scans = [
        node for node in _generic_plan(sql, params) if node.get("Relation Name") == "transactions_transaction"
    ]
    found = [node for node in scans if "amount_minor >=" in node.get("Index Cond", "")]
    # The sample's found branch and the page's.
    assert len(found) >= 2, scans
    assert {(node["Node Type"], node["Index Name"]) for node in found} == {
        ("Index Only Scan", "tx_budget_amount_idx")
    }
    # With ?kind= too, each budget's count is its range of the same index, the kind read off
    # it; without the kind there, it read every row of the budget through the date index.
    with _statements_sent() as sent:
        body = client_for(member).get(LIST, {"amount_min": "400", "kind": "expense"}).json()
    assert body["count"] == expected.count()
    ((sql, params),) = [
        (sql, params) for sql, params in sent if sql.startswith("SELECT scope.id, matching.n")
    ]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        ((plan,),) = cursor.fetchall()
    counted = [
        (node["Node Type"], node.get("Index Name"))
        for node in _plan_nodes(plan)
        if node.get("Relation Name") == "transactions_transaction"
    ]
    assert counted == [("Index Only Scan", "tx_budget_amount_idx")]


@pytest.mark.parametrize("ordering", ["-date", "amount"])
@pytest.mark.parametrize("limit", [2, 12])
def test_a_cursor_walk_over_sparse_budgets_gives_every_matching_row_once(
    client_for, few_large_amounts, ordering, limit
):
    """A cursor knows each budget's total, not its matching rows: a budget with no more rows
    than a page reaches is sparse there (the small one, at limit=12), the others walked."""
    member, partner = few_large_amounts
    client = client_for(member)
    field = {"date": "date", "amount": "amount_minor"}[ordering.lstrip("-")]
    order = (f"-{field}", "-id") if ordering.startswith("-") else (field, "id")
    for params, matching in (
        ({"amount_min": "400"}, Q(amount_minor__gte=40_000)),
        ({"created_by": partner.pk}, Q(created_by=partner)),
    ):
        seen, _ = walk(client, {**params, "ordering": ordering, "limit": limit})
        assert seen == list(
            Transaction.objects.filter(matching).order_by(*order).values_list("pk", flat=True)
        ), params


@pytest.fixture
def mostly_large_amounts():
    """A member's two budgets (EUR and JPY) whose amounts are mostly 100.00 (EUR) or
    10,000 (JPY) and more, and an empty third one, analysed: PostgreSQL has statistics of
    the amounts."""
    member = UserFactory()
    euros, yen = BudgetFactory(owner=member, currency="EUR"), BudgetFactory(owner=member, currency="JPY")
    BudgetFactory(owner=member)
    rng = random.Random(9)
    Transaction.objects.bulk_create(
        Transaction(
            budget=budget,
            created_by=member,
            kind="expense",
            amount_minor=rng.randint(10_000, 99_999) if i % 5 else rng.randint(1, 9_999),
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(90)),
            payee=f"payee {i}",
        )
        for budget in (euros, yen)
        for i in range(400)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transactions_transaction" if connection.vendor == "postgresql" else "ANALYZE")
    return member


def _count_branch(sql: str, params) -> str | None:
    """Which count complement_count_sql's statement ran: "outside" (the total less the rows
    outside the bound) or "kept" (the rows counted)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        ((plan,),) = cursor.fetchall()
    ran = set()
    for node in _plan_nodes(plan):
        if not node.get("Actual Loops"):
            continue
        condition = " ".join(node.get(key, "") for key in ("Index Cond", "Filter", "Join Filter"))
        # The column is qualified or not, as the plan's shape has it.
        for operator in re.findall(r"amount_minor (<=|>=|<|>) ", condition):
            ran.add("outside" if operator in ("<", ">") else "kept")
    assert len(ran) == 1, plan
    return ran.pop()


@pytest.mark.parametrize(
    ("params", "branch"),
    [
        ({"amount_min": "100"}, "outside"),  # 80% kept
        ({"amount_min": "700"}, "kept"),  # about a third kept
        ({"amount_max": "99.99"}, "kept"),  # 20% kept
        ({"amount_max": "950"}, "outside"),  # about 95% kept
        ({"amount_min": "100", "kind": "expense"}, None),  # another filter: counted
        # Past the largest amount in four-place minor units: no row is kept, and none outside.
        ({"amount_min": "922337203685477.5808"}, None),
    ],
)
def test_a_count_by_one_amount_bound_is_the_total_less_the_rows_outside_when_they_are_fewer(
    client_for, mostly_large_amounts, params, branch
):
    """On PostgreSQL a list narrowed by one amount bound counts each budget's rows within it,
    or takes its total (the counters) less its rows outside it when the amounts' statistics
    say those are fewer (complement_count_sql). Either way the count is the rows'."""
    with _statements_sent() as sent:
        body = client_for(mostly_large_amounts).get(LIST, {**params, "limit": 500}).json()
    rows = Transaction.objects.filter(budget__owner=mostly_large_amounts).select_related("budget")
    low, high = params.get("amount_min"), params.get("amount_max")
    expected = [
        row.pk
        for row in rows
        if (low is None or row.amount >= Decimal(low)) and (high is None or row.amount <= Decimal(high))
    ]
    assert body["count"] == len(expected)
    assert sorted(row["id"] for row in body["results"]) == sorted(expected)[:500] or len(expected) > 500
    statements = [(sql, values) for sql, values in sent if "pg_stats" in sql]
    if connection.vendor != "postgresql" or branch is None:
        assert statements == []
        return
    ((sql, values),) = statements
    assert _count_branch(sql, values) == branch
