"""The walk (transactions/pagination.py, walk_of and window_sql): an unnarrowed list in date
or amount order over many budgets reads the table's rows in the order off a table-wide
index and keeps the caller's; when they are not among the rows it may read, the window
reads the page. Both give the same exact pages, and neither shows a row of a budget
outside the caller's scope.

The caller sees 70 budgets (past WALK_FROM_BUDGETS); ten budgets of a stranger hold the
table's newest and oldest rows, and its largest and smallest amounts, with ties, so the
walk has to pass over them either way."""

import datetime
import json
import math
import random
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetUserObjectPermission, GrantSource
from budgets.shares import VIEW_CODENAME, codename_id
from server import compiled
from transactions import pagination
from transactions.models import Transaction
from transactions.selectors import transaction_counts_by_budget

pytestmark = pytest.mark.django_db

LIST = "/api/v1/transactions/"
ORDER_FOR = {
    "": ("-date", "-id"),
    "date": ("date", "id"),
    "amount": ("amount_minor", "id"),
    "-amount": ("-amount_minor", "-id"),
}


def _budgets(owner, count: int, name: str) -> list[Budget]:
    return Budget.objects.bulk_create(
        Budget(
            owner=owner,
            name=f"{name} {i}",
            amount_minor=100_000,
            currency="EUR",
            period="monthly",
            start_date=datetime.date(2025, 1, 1),
        )
        for i in range(count)
    )


@pytest.fixture
def adviser():
    """A caller with admin "view" grants (as the staff grants API writes them) on 70 budgets."""
    owner, stranger, adviser, staff = UserFactory(), UserFactory(), UserFactory(), UserFactory(is_staff=True)
    shared = _budgets(owner, 70, "Client")
    BudgetUserObjectPermission.objects.bulk_create(
        BudgetUserObjectPermission(
            content_object=budget,
            user=adviser,
            permission_id=codename_id(VIEW_CODENAME),
            source=GrantSource.ADMIN,
            granted_by=staff,
        )
        for budget in shared
    )
    _budgets(owner, 5, "Not shared")  # the owner's, never the adviser's
    foreign = _budgets(stranger, 10, "Stranger")
    rng = random.Random(20)
    rows = [
        Transaction(
            budget=budget,
            created_by=budget.owner,
            kind="expense",
            amount_minor=(rng.choice((1, 2, 99_000, 99_001)) if budget in foreign else rng.randint(3, 300)),
            # The stranger's rows are the newest and the oldest; the others' spread over 60
            # days, many a day.
            date=(datetime.date(2026, 6, 1) if n % 2 else datetime.date(2025, 6, 1))
            + datetime.timedelta(days=rng.randrange(10))
            if budget in foreign
            else datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(60)),
            payee="Rail",
        )
        for budget in Budget.objects.all()
        for n in range(rng.randint(2, 6) if budget in shared else 12)
    ]
    Transaction.objects.bulk_create(rows)
    return adviser


def _expected(adviser, ordering: str) -> list[int]:
    rows = Transaction.objects.visible_to(adviser).order_by(*ORDER_FOR[ordering])
    return list(rows.values_list("id", flat=True))


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _plan(page_sql: str) -> list[dict]:
    """The page statement's plan nodes, run again with EXPLAIN ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + page_sql)
        (plan,) = cursor.fetchone()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return list(_nodes(plan[0]["Plan"]))


def _window_ran(page_sql: str) -> bool:
    """Whether the page statement ran the window: its branch is gated by "the walk found
    fewer rows than it needs" (a one-time filter with <; the walk's own gates are <= and =);
    when the walk found them, the branch's plan below the gate never runs."""
    (gate,) = [node for node in _plan(page_sql) if " < " in node.get("One-Time Filter", "")]
    (window,) = [child for child in gate["Plans"] if child["Parent Relationship"] == "Outer"]
    return window["Actual Loops"] > 0


def _walk_read_the_table(page_sql: str) -> bool:
    """Whether the walk (the statement's "walk" CTE) read any of the table's rows."""
    (walk,) = [node for node in _plan(page_sql) if node.get("Subplan Name") == "CTE walk"]
    reads = [node for node in _nodes(walk) if node.get("Relation Name") == "transactions_transaction"]
    assert reads, walk
    return any(node["Actual Loops"] > 0 for node in reads)


@pytest.mark.parametrize(("entries", "walked"), [(1_000, True), (1, False)])
@pytest.mark.parametrize("ordering", ["", "date", "amount", "-amount"])
def test_the_walk_or_the_window_gives_the_same_exact_pages(
    client_for, adviser, monkeypatch, entries, walked, ordering
):
    """With room to read (1,000 entries a budget), the walk finds every page and the window
    never runs; with one entry a budget (70 entries, 60 of them the stranger's) it comes
    up short and the window reads the page. On SQLite the plain query reads it either way."""
    monkeypatch.setattr(pagination, "WALK_ENTRIES_PER_BUDGET", entries)
    client = client_for(adviser)
    every = _expected(adviser, ordering)
    for offset, limit in ((0, 50), (33, 7), (100, 50), (len(every) - 5, 50)):
        with CaptureQueriesContext(connection) as captured:
            body = client.get(LIST, {"ordering": ordering, "offset": offset, "limit": limit}).json()
        assert body["count"] == len(every)
        assert [row["id"] for row in body["results"]] == every[offset : offset + limit], (offset, limit)
        # The token's user, then the count with the page (PostgreSQL: compiled_counted_page),
        # or the counters and the page.
        assert len(captured) == (2 if connection.vendor == "postgresql" else 3)
        if connection.vendor == "postgresql" and offset + limit <= entries * 70:
            assert _window_ran(captured.captured_queries[-1]["sql"]) is not walked, (offset, limit)
    url, seen = f"{LIST}?cursor=start&limit=40&ordering={ordering}", []
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"] and "{0.path}?{0.query}".format(urlsplit(body["next"]))
    assert seen == every


@pytest.mark.parametrize(
    ("params", "walks"),
    [
        ({}, True),
        ({"ordering": "date", "offset": 10}, True),
        ({"limit": 40, "cursor": "start"}, True),
        ({"ordering": "-amount", "offset": 60}, True),
        ({"ordering": "-created_at"}, False),
        ({"ordering": "created_at", "cursor": "start"}, False),
        ({"kind": "expense"}, False),
        ({"date_after": "2026-01-10"}, False),
        ({"amount_min": "0.10"}, False),
        ({"search": "rail"}, True),
        ({"search": "rail", "ordering": "-amount", "kind": "expense"}, True),
        ({"search": "rail", "amount_max": "2.50"}, True),
        ({"search": "rail", "ordering": "amount", "amount_max": "2.50"}, False),
        ({"search": "rail", "date_before": "2026-02-01"}, False),
        ({"search": "rail", "ordering": "-created_at"}, False),
        ({"search": "rail", "cursor": "start"}, False),
    ],
)
def test_only_unnarrowed_or_searched_lists_in_date_or_amount_order_are_walked(
    client_for, adviser, params, walks
):
    """walk_of: the creation time has no table-wide index. Of narrowed lists only a searched
    one is walked (the window's per-budget reads check the text too; other filters' windows
    read their own indexes), and not when a filter bounds the order's field (the rows it
    keeps all sit past the bound, not spread through the order), nor by cursor (the counters
    say nothing of how many rows the filters keep)."""
    with CaptureQueriesContext(connection) as captured:
        response = client_for(adviser).get(LIST, params)
    assert response.status_code == 200
    page = captured.captured_queries[-1]["sql"]
    assert ("walk AS MATERIALIZED" in page) is (walks and connection.vendor == "postgresql"), params


@pytest.mark.parametrize("compile_pages", [True, False])
def test_fewer_budgets_than_walk_from_budgets_are_not_walked(client_for, adviser, monkeypatch, compile_pages):
    """Built, the page's statement has no walk; compiled (compiled_counted_page), the statement
    counts the budgets itself and its walk reads nothing."""
    monkeypatch.setattr(compiled, "_compiled", {})
    monkeypatch.setattr(pagination, "COMPILE_PAGES", compile_pages)
    monkeypatch.setattr(pagination, "WALK_FROM_BUDGETS", 71)  # the adviser sees 70
    with CaptureQueriesContext(connection) as captured:
        body = client_for(adviser).get(LIST).json()
    page = captured.captured_queries[-1]["sql"]
    assert [row["id"] for row in body["results"]] == _expected(adviser, "")[:50]
    if connection.vendor != "postgresql":
        assert "walk AS MATERIALIZED" not in page
    elif compile_pages:
        assert not _walk_read_the_table(page)
        assert _window_ran(page)
    else:
        assert "walk AS MATERIALIZED" not in page
    monkeypatch.setattr(pagination, "WALK_FROM_BUDGETS", 70)
    with CaptureQueriesContext(connection) as captured:
        body = client_for(adviser).get(LIST).json()
    assert [row["id"] for row in body["results"]] == _expected(adviser, "")[:50]
    if connection.vendor == "postgresql":
        assert _walk_read_the_table(captured.captured_queries[-1]["sql"])


@pytest.mark.parametrize("compile_pages", [True, False])
def test_the_walk_keeps_only_rows_of_budgets_in_the_callers_scope(
    client_for, adviser, monkeypatch, compile_pages
):
    """The walk keeps a row when its budget is among the window's budgets, which the
    statement checks against the caller's scope itself: a stranger's budget slipped into the
    counters' list (as a share revoked between the count and the page would leave it) yields
    none of its rows, though they are the table's newest. Compiled, a page by offset reads
    its budgets in its own statement (compiled_counted_page), and only the cursor's list
    comes from Python; built, both do."""
    monkeypatch.setattr(compiled, "_compiled", {})
    monkeypatch.setattr(pagination, "COMPILE_PAGES", compile_pages)
    stranger_budget = Budget.objects.filter(name="Stranger 0").get()
    real = pagination.transaction_counts_by_budget

    def with_a_foreign_budget(*, user):
        return {**real(user=user), stranger_budget.pk: 12}

    monkeypatch.setattr(pagination, "transaction_counts_by_budget", with_a_foreign_budget)
    foreign = set(Transaction.objects.filter(budget=stranger_budget).values_list("id", flat=True))
    every = _expected(adviser, "")
    client = client_for(adviser)
    for params in ({"limit": 50}, {"limit": 500}, {"limit": 40, "cursor": "start"}):
        with CaptureQueriesContext(connection) as captured:
            body = client.get(LIST, params).json()
        ids = [row["id"] for row in body["results"]]
        assert not foreign & set(ids), params
        assert ids == every[: params["limit"]], params
        if connection.vendor == "postgresql":
            assert "walk AS MATERIALIZED" in captured.captured_queries[-1]["sql"]


def test_the_walk_is_not_tried_in_a_table_too_large_for_the_callers_share(client_for, adviser, monkeypatch):
    """walk_of: when the caller's rows are too few among the table's (PostgreSQL's estimate
    of its rows) for the walk to be expected to find the page within its entries, the walk
    reads nothing and the window reads the page; with more entries allowed, the walk reads
    the index and finds the page."""
    visible = Transaction.objects.visible_to(adviser).count()
    # 70 budgets, 50 rows to find: 70 x per budget entries, tried in a table of up to
    # entries x visible // 50 rows.
    assert pagination.walk_of(dict.fromkeys(range(70), 4), ("-date", "-id"), 50, narrowed=False) == (
        700,
        50,
        700 * 280 // 50,
    )
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transactions_transaction")
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'transactions_transaction'::regclass")
        (table_rows,) = cursor.fetchone()
    assert table_rows == Transaction.objects.count()
    assert 70 * 1 * visible // 50 < table_rows <= 70 * 30 * visible // 50
    client = client_for(adviser)
    for per_budget, tried in ((1, False), (30, True)):
        monkeypatch.setattr(pagination, "WALK_ENTRIES_PER_BUDGET", per_budget)
        with CaptureQueriesContext(connection) as captured:
            body = client.get(LIST).json()
        assert [row["id"] for row in body["results"]] == _expected(adviser, "")[:50]
        page = captured.captured_queries[-1]["sql"]
        assert _walk_read_the_table(page) is tried, per_budget
        assert _window_ran(page) is not tried, per_budget


@pytest.fixture
def searched(adviser):
    """Half the rows renamed so that "rail" keeps the other half, the stranger's among them;
    with the stranger's newest and oldest rows, the walk passes both kinds of row it must
    drop."""
    rows = list(Transaction.objects.order_by("id").values_list("id", flat=True))
    Transaction.objects.filter(id__in=rows[::2]).update(payee="Bakery")
    Transaction.objects.filter(id__in=rows[1::4]).update(payee="", notes="rail pass")
    return adviser


def _expected_searched(adviser, ordering: str, **filters) -> list[int]:
    rows = Transaction.objects.visible_to(adviser).filter(**filters)
    rows = rows.filter(
        Q(payee__icontains="rail") | Q(description__icontains="rail") | Q(notes__icontains="rail")
    )
    return list(rows.order_by(*ORDER_FOR[ordering]).values_list("id", flat=True))


@pytest.mark.parametrize(("entries", "walked"), [(1_000, True), (1, False)])
@pytest.mark.parametrize("ordering", ["", "date", "amount", "-amount"])
@pytest.mark.parametrize("bounded", [False, True])
def test_a_searched_walk_or_the_window_gives_the_same_exact_pages(
    client_for, searched, monkeypatch, entries, walked, ordering, bounded
):
    """The walk reads the table's rows in the order and keeps those of the caller's budgets
    that the filters keep (checked row by row); with one entry a budget it comes up short and
    the window reads the page. With an amount bound too, an amount order is not walked."""
    monkeypatch.setattr(pagination, "WALK_ENTRIES_PER_BUDGET", entries)
    monkeypatch.setattr(pagination, "WALK_FROM_BUDGETS", 10)  # budgets with a matching row
    client = client_for(searched)
    extra = {"amount_max": "2.50"} if bounded else {}
    every = _expected_searched(searched, ordering, **({"amount_minor__lte": 250} if bounded else {}))
    assert 0 < len(every) < Transaction.objects.visible_to(searched).count()
    walks = walked and not (bounded and "amount" in ordering)
    for offset, limit in ((0, 50), (21, 7), (len(every) - 5, 50)):
        params = {"search": "rail", "ordering": ordering, "offset": offset, "limit": limit, **extra}
        with CaptureQueriesContext(connection) as captured:
            body = client.get(LIST, params).json()
        assert body["count"] == len(every)
        assert [row["id"] for row in body["results"]] == every[offset : offset + limit], (offset, limit)
        if connection.vendor == "postgresql" and offset + limit <= entries * 40:
            page = captured.captured_queries[-1]["sql"]
            assert ("walk AS MATERIALIZED" in page) is (not bounded or "amount" not in ordering)
            if "walk AS MATERIALIZED" in page:
                assert _window_ran(page) is not walks, (offset, limit)


def test_a_searched_walk_reads_no_more_entries_than_allowed(client_for, searched, monkeypatch):
    """The walk's entries are the table's, not the matching rows': a term only the caller's
    100 oldest rows and the table's 5 oldest hold stops the walk after its entries (it reads
    the newest), and the window reads the page."""
    monkeypatch.setattr(pagination, "WALK_ENTRIES_PER_BUDGET", 5)
    monkeypatch.setattr(pagination, "WALK_FROM_BUDGETS", 10)
    oldest = Transaction.objects.order_by("date", "id").values_list("id", flat=True)[:5]
    mine = Transaction.objects.visible_to(searched).order_by("date", "id").values_list("id", flat=True)[:100]
    Transaction.objects.filter(id__in=[*oldest, *mine]).update(notes="ancient rail")
    matching = Transaction.objects.visible_to(searched).filter(notes="ancient rail")
    entries = 5 * matching.values("budget_id").distinct().count()
    expected = list(matching.order_by("-date", "-id").values_list("id", flat=True))
    with CaptureQueriesContext(connection) as captured:
        body = client_for(searched).get(LIST, {"search": "ancient", "limit": 50}).json()
    assert body["count"] == len(expected) == 100
    assert [row["id"] for row in body["results"]] == expected[:50]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:  # the guard reads the table's size from its statistics
        cursor.execute("ANALYZE transactions_transaction")
    assert Transaction.objects.count() <= entries * 100 // 50  # so the walk is tried
    with CaptureQueriesContext(connection) as captured:
        body = client_for(searched).get(LIST, {"search": "ancient", "limit": 50}).json()
    assert [row["id"] for row in body["results"]] == expected[:50]
    page = captured.captured_queries[-1]["sql"]
    assert _walk_read_the_table(page)
    # The walked rows are the table's first ``entries`` rows in the order, whatever the term:
    # with the filters inside the limited walk, it would stop at ``entries`` matching rows,
    # reading the whole table for a rare term.
    (walk,) = [node for node in _plan(page) if node.get("Subplan Name") == "CTE walk"]
    (walked,) = [node for node in _nodes(walk) if node.get("Alias") == "walked"]
    (limited,) = [child for child in walked["Plans"] if child["Parent Relationship"] == "Subquery"]
    assert limited["Node Type"] == "Limit"
    assert limited["Actual Rows"] == entries < Transaction.objects.count(), (entries, limited)
    assert _window_ran(page)


def test_a_searched_walk_keeps_only_rows_of_budgets_in_the_callers_scope(client_for, searched, monkeypatch):
    """As the unnarrowed walk: a stranger's budget slipped into the searched count (its rows
    the table's newest and holding the term) yields none of its rows."""
    stranger_budget = Budget.objects.filter(name="Stranger 0").get()
    real = pagination.TransactionPagination.rows_per_budget

    def with_a_foreign_budget(self, queryset, request):
        return {**real(self, queryset, request), stranger_budget.pk: 12}

    monkeypatch.setattr(pagination.TransactionPagination, "rows_per_budget", with_a_foreign_budget)
    foreign = set(Transaction.objects.filter(budget=stranger_budget).values_list("id", flat=True))
    assert Transaction.objects.filter(budget=stranger_budget, payee="Rail").exists()
    every = _expected_searched(searched, "")
    client = client_for(searched)
    for limit in (50, 500):
        with CaptureQueriesContext(connection) as captured:
            body = client.get(LIST, {"search": "rail", "limit": limit}).json()
        ids = [row["id"] for row in body["results"]]
        assert not foreign & set(ids), limit
        assert ids == every[:limit], limit
        if connection.vendor == "postgresql":
            assert "walk AS MATERIALIZED" in captured.captured_queries[-1]["sql"]


def test_a_counted_page_shows_no_row_outside_its_own_budgets(client_for, adviser, monkeypatch):
    """compiled_counted_page keeps a row only when its budget is among the statement's own
    (the caller's with rows, read through the scope in SQL): a stranger's row slipped into
    the window's ids, the table's newest, is not shown, and the count is the caller's."""
    monkeypatch.setattr(compiled, "_compiled", {})
    foreign = Transaction.objects.filter(budget__name__startswith="Stranger").order_by("-date", "-id")[0]
    real, calls = pagination._window, []

    def with_a_foreign_row(queryset, **window):
        head, head_params, body, body_params = real(queryset, **window)
        calls.append(window["budgets"])
        return head, head_params, f"SELECT %s UNION ALL ({body})", (foreign.pk, *body_params)

    monkeypatch.setattr(pagination, "_window", with_a_foreign_row)
    every = _expected(adviser, "")
    client = client_for(adviser)
    for offset, limit in ((0, 50), (20, 10), (len(every) - 3, 50)):
        body = client.get(LIST, {"offset": offset, "limit": limit}).json()
        assert body["count"] == len(every)
        assert [row["id"] for row in body["results"]] == every[offset : offset + limit], (offset, limit)
    # PostgreSQL compiles the statement once, its budgets counted in SQL; SQLite has no window.
    assert calls == ([None] if connection.vendor == "postgresql" else [])


@pytest.mark.parametrize(
    ("from_budgets", "per_budget", "offset"),
    [(70, 10, 0), (71, 10, 0), (70, 1, 0), (70, 1, 100), (70, 3, 100), (70, 5, 100), (10, 2, 100)],
)
def test_a_counted_page_walks_where_walk_of_walks(
    client_for, adviser, monkeypatch, from_budgets, per_budget, offset
):
    """The counted statement decides in SQL, from its own totals, what walk_of decides from
    the counters in Python (fewer budgets than WALK_FROM_BUDGETS, more rows needed than
    entries, a table larger than the walk's reach: the walk reads nothing)."""
    monkeypatch.setattr(pagination, "WALK_FROM_BUDGETS", from_budgets)
    monkeypatch.setattr(pagination, "WALK_ENTRIES_PER_BUDGET", per_budget)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the walk's guard reads the table's size from its statistics
            cursor.execute("ANALYZE transactions_transaction")
    with CaptureQueriesContext(connection) as captured:
        body = client_for(adviser).get(LIST, {"offset": offset}).json()
    assert [row["id"] for row in body["results"]] == _expected(adviser, "")[offset : offset + 50]
    if connection.vendor != "postgresql":
        return
    walk = pagination.walk_of(transaction_counts_by_budget(user=adviser), ("-date", "-id"), offset + 50)
    tried = walk is not None and Transaction.objects.count() <= walk[2]
    page = captured.captured_queries[-1]["sql"]
    assert _walk_read_the_table(page) is tried, walk
    assert _window_ran(page) is not tried, walk


@pytest.mark.parametrize("depth", [50, 2_050])
def test_a_counted_page_samples_the_budgets_sampled_budgets_samples(depth):
    rng = random.Random(depth)
    weights = {budget: rng.randint(1, 20) for budget in range(1, 2_001)}  # ties, broken by id
    chosen, shares = pagination.sampled_budgets(weights, depth)
    assert len(chosen) == max(pagination.MIN_SAMPLED_BUDGETS, math.ceil(math.sqrt(2_000 * depth) / 4))
    assert sum(shares) >= depth
    if connection.vendor != "postgresql":
        return
    sql = (
        "WITH page_budget AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS given (id, n)), "
        f"totals AS ({pagination._TOTALS_SQL}) "
        f"SELECT share.id, share.k FROM ({pagination._COUNTED_SHARE_SQL}) AS share"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (list(weights), list(weights.values()), depth, depth, depth))
        assert dict(cursor.fetchall()) == dict(zip(chosen, shares, strict=True))
