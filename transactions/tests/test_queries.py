"""Query counts are behaviour: the list, summary and report cost the same at any size.

Each client makes one warm-up request first: permission ids are looked up once per
process (permissions/codenames.py), not per request.
"""

import datetime

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetKnowledge
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from households.tests.factories import make_household
from server.database import rows_of_each
from server.tests.helpers import assert_error
from transactions.models import Transaction
from transactions.tests.helpers import BULK, IMPORT_HEADER, LIST, import_csv, report_url, summary_url

pytestmark = pytest.mark.django_db

# The user behind the token, the caller's visible budget ids, the count, the page.
LIST_QUERIES = 4


def add_rows(budget, n, *, categories, authors):
    Transaction.objects.bulk_create(
        Transaction(
            budget=budget,
            category=categories[i % len(categories)] if categories else None,
            created_by=authors[i % len(authors)],
            kind="expense" if i % 3 else "income",
            amount_minor=100 + i,
            date=datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 28),
            payee=f"row {i}",
        )
        for i in range(n)
    )


def count_queries(client, url, params=None) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.json()
    return len(queries), response.json()


@pytest.fixture
def owner_with_one_budget(client_for):
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    client = client_for(owner)
    client.get(LIST)  # warm-up
    return owner, budget, client


@pytest.fixture
def member_with_shared_budgets(client_for):
    """A household member who sees their own budget, one shared by user share and one by
    household share: the caller the issue's benchmark measures."""
    member, partner, other = UserFactory(), UserFactory(), UserFactory()
    home = make_household(partner, members=[member, other])
    own = BudgetFactory(owner=member)
    by_user, by_household = BudgetFactory(owner=partner), BudgetFactory(owner=other)
    share_user(by_user, member, "edit")
    share_household(by_household, home, "view")
    BudgetFactory()  # a stranger's, never visible
    client = client_for(member)
    client.get(LIST)  # warm-up
    return (member, partner, other), [own, by_user, by_household], client


def test_list_runs_the_same_few_queries_at_1_and_at_500_rows(
    owner_with_one_budget, django_assert_max_num_queries
):
    owner, budget, client = owner_with_one_budget
    food = CategoryFactory(budget=budget)
    add_rows(budget, 1, categories=[food], authors=[owner])
    with django_assert_max_num_queries(LIST_QUERIES):
        one, body = count_queries(client, LIST, {"limit": 500})
    assert len(body["results"]) == 1

    add_rows(budget, 499, categories=[food, None], authors=[owner])
    with django_assert_max_num_queries(LIST_QUERIES):
        full, body = count_queries(client, LIST, {"limit": 500})
    assert len(body["results"]) == 500
    assert one == full
    assert {item["category"] for item in body["results"]} == {food.pk, None}
    assert {item["created_by"]["email"] for item in body["results"]} == {owner.email}


def test_list_for_a_member_of_several_budgets_is_constant_too(
    member_with_shared_budgets, django_assert_max_num_queries
):
    people, budgets, client = member_with_shared_budgets
    cats = [CategoryFactory(budget=b) for b in budgets]
    for budget, cat in zip(budgets, cats, strict=True):
        add_rows(budget, 1, categories=[cat], authors=list(people))
    with django_assert_max_num_queries(LIST_QUERIES):
        small, body = count_queries(client, LIST, {"limit": 500})
    assert body["count"] == 3

    for budget, cat in zip(budgets, cats, strict=True):
        add_rows(budget, 200, categories=[cat, None], authors=list(people))
    with django_assert_max_num_queries(LIST_QUERIES):
        full, body = count_queries(client, LIST, {"limit": 500})
    assert len(body["results"]) == 500
    assert small == full
    assert {item["created_by"]["id"] for item in body["results"]} == {p.pk for p in people}


def test_filtered_list_stays_constant(owner_with_one_budget):
    owner, budget, client = owner_with_one_budget
    food = CategoryFactory(budget=budget)
    params = {"limit": 500, "budget": budget.pk, "category": food.pk, "amount_min": "1", "search": "row"}
    add_rows(budget, 1, categories=[food], authors=[owner])
    one, _ = count_queries(client, LIST, params)
    add_rows(budget, 499, categories=[food], authors=[owner])
    full, body = count_queries(client, LIST, params)
    assert len(body["results"]) == 500
    assert one == full


# Committed writes: one test transaction would give every row the same knowledge.
@pytest.mark.django_db(transaction=True)
def test_list_since_a_knowledge_runs_the_same_queries_at_1_and_at_500_changed_rows(owner_with_one_budget):
    owner, budget, client = owner_with_one_budget
    add_rows(budget, 300, categories=[], authors=[owner])  # before the knowledge: never listed
    since = BudgetKnowledge.objects.get(budget_id=budget.pk).server_knowledge
    params = {"limit": 500, "budget": budget.pk, "last_knowledge_of_server": since}
    add_rows(budget, 1, categories=[], authors=[owner])
    one, body = count_queries(client, LIST, params)
    assert body["count"] == 1
    add_rows(budget, 499, categories=[], authors=[owner])
    full, body = count_queries(client, LIST, params)
    assert body["count"] == len(body["results"]) == 500
    assert one == full <= LIST_QUERIES


@pytest.mark.parametrize(
    ("url", "params", "most"),
    [
        # token user, the budget, totals, per-category sums
        (summary_url, {"date": "2026-01-15"}, 4),
        # token user, the budget, monthly totals, per-category monthly sums, category names
        (report_url, {"from": "2025-12", "to": "2026-02"}, 5),
    ],
)
def test_summary_and_report_cost_the_same_at_0_and_200_transactions(owner_with_one_budget, url, params, most):
    owner, budget, client = owner_with_one_budget
    categories = [CategoryFactory(budget=budget) for _ in range(5)]
    empty, body = count_queries(client, url(budget.pk), params)
    add_rows(budget, 200, categories=[*categories, None], authors=[owner])
    full, body_full = count_queries(client, url(budget.pk), params)
    assert body != body_full  # the rows were counted
    assert empty == full <= most


def test_bulk_create_runs_no_query_per_item(owner_with_one_budget):
    """The same reads for 2 items as for 300; inserts are batched (SQLite's parameter
    limit splits 300 rows into a few INSERTs, PostgreSQL needs one)."""
    _, budget, client = owner_with_one_budget
    food = CategoryFactory(budget=budget)

    def bulk(n) -> tuple[int, int]:
        item = {
            "budget": budget.pk,
            "category": food.pk,
            "kind": "expense",
            "amount": "1.00",
            "date": "2026-01-02",
        }
        with CaptureQueriesContext(connection) as queries:
            response = client.post(BULK, [item] * n)
        assert response.status_code == 201, response.content[:300]
        inserts = sum(q["sql"].startswith("INSERT") for q in queries.captured_queries)
        return len(queries) - inserts, inserts

    (reads_small, inserts_small), (reads_large, inserts_large) = bulk(2), bulk(300)
    assert reads_small == reads_large
    assert inserts_small == 1
    assert inserts_large <= 4
    assert Transaction.objects.filter(budget=budget).count() == 302


def _write_queries(client, method, url, body=None) -> list[str]:
    """The statements of one write, without the savepoints the test's own transaction adds."""
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, body, format="json")
    assert response.status_code < 300, response.content[:300]
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_writes_lock_their_budget_and_check_under_the_lock_in_a_fixed_number_of_queries(
    owner_with_one_budget, client_for
):
    """The lock order costs one statement per write, the re-checks one each where they
    apply: the editor's right (the owner's is known from the locked row), a category named."""
    owner, budget, client = owner_with_one_budget
    food = CategoryFactory(budget=budget)
    editor = UserFactory()
    make_household(owner, members=[editor])
    share_user(budget, editor, "edit")
    as_editor = client_for(editor)
    as_editor.get(LIST)  # warm-up
    new = {"budget": budget.pk, "kind": "expense", "amount": "1.00", "date": "2026-01-02"}

    def locks(statements):
        return [s for s in statements if "FOR NO KEY UPDATE" in s or "FOR UPDATE" in s]

    # user, the budget's lock (which is also the body's read of it: services.
    # transaction_create_in), insert; on PostgreSQL the right under the lock (sent with the
    # lock, for the owner too: the owner is known once the row is read), on SQLite the
    # budget's new knowledge (the Server-Knowledge header; PostgreSQL's INSERT returns it,
    # set by its BEFORE trigger)
    postgresql = connection.vendor == "postgresql"
    created = _write_queries(client, "post", LIST, new)
    assert len(created) == 4 and len(locks(created)) == postgresql
    assert "budgets_budgetuserobjectpermission" in created[1]  # the lock takes only a visible budget
    assert ("budgets_budgetknowledge" in created[-1]) is not postgresql
    assert '"knowledge"' in created[-1 - (not postgresql)].rsplit("RETURNING", 1)[-1]
    # + the category (field), the category again under the lock
    assert len(_write_queries(client, "post", LIST, {**new, "category": food.pk})) == 6
    # the editor's right under the lock: on SQLite read on its own
    assert len(_write_queries(as_editor, "post", LIST, new)) == 5 - postgresql
    tx = Transaction.objects.filter(budget=budget).first()
    # user, transaction, lock, the row again, update, the knowledge
    assert len(_write_queries(client, "patch", f"{LIST}{tx.pk}/", {"notes": "paid"})) == 6
    # user, transaction, the right (permission class), lock, the row again, the right again, delete,
    # the knowledge
    assert len(_write_queries(as_editor, "delete", f"{LIST}{tx.pk}/")) == 8


def test_an_editors_creates_plan_the_budget_lock_and_the_right_once_per_connection(
    owner_with_one_budget, client_for
):
    """A prepared statement is planned again on every run while its custom plan looks
    cheaper than its generic one, as it does for an array of one id (the generic plan counts
    ten): the lock and the right under it name one budget as ``id = %s`` (pk_among), so
    PostgreSQL settles on their generic plans after five runs. On SQLite: the same creates,
    with the right read under the lock each time (as in the test above)."""
    owner, budget, _client = owner_with_one_budget
    editor = UserFactory()
    make_household(owner, members=[editor])
    share_user(budget, editor, "edit")
    as_editor = client_for(editor)
    new = {"budget": budget.pk, "kind": "expense", "amount": "1.00", "date": "2026-01-02"}
    if connection.vendor == "postgresql":  # a table of the size where the two plans' costs part
        Budget.objects.bulk_create(BudgetFactory.build(owner=owner) for _ in range(3000))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE budgets_budget")
    for _ in range(9):
        statements = _write_queries(as_editor, "post", LIST, new)
        assert len(statements) == 5 - (connection.vendor == "postgresql")
    assert Transaction.objects.filter(budget=budget, created_by=editor).count() == 9
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%%FOR NO KEY UPDATE%%'"
                " OR statement LIKE '%%budgetuserobjectpermission%%'"
            )
            plans = cursor.fetchall()
        lock = [plan for plan in plans if "FOR NO KEY UPDATE" in plan[0]]
        assert len(lock) == 1 and len(plans) >= 2, plans
        for statement, generic, custom in plans:
            assert custom <= 5 and generic >= 1, (statement[:200], generic, custom)


def test_a_writes_right_travels_with_its_lock(owner_with_one_budget, client_for, monkeypatch):
    """On PostgreSQL an editor's create, change and delete send the budget's lock and their
    right under it together (one round trip, server.database.rows_of_each); the owner's
    change and delete send the lock alone, the owner's create both (the lock is its read of
    the budget, so the owner is not known before). SQLite sends each on its own (the counts
    above)."""
    from budgets.services import locks

    owner, budget, client = owner_with_one_budget
    editor = UserFactory()
    make_household(owner, members=[editor])
    share_user(budget, editor, "edit")
    as_editor = client_for(editor)
    sent = []

    def recording(statements, using="default"):
        sent.append(["FOR NO KEY UPDATE" in sql for sql, _params in statements])
        return rows_of_each(statements, using)

    monkeypatch.setattr(locks, "rows_of_each", recording)
    new = {"budget": budget.pk, "kind": "expense", "amount": "1.00", "date": "2026-01-02"}
    for caller in (as_editor, client):
        sent.clear()
        tx = caller.post(LIST, new, format="json").json()
        assert caller.patch(f"{LIST}{tx['id']}/", {"notes": "paid"}, format="json").status_code == 200
        assert caller.put(f"{LIST}{tx['id']}/", {**new, "notes": "paid"}, format="json").status_code == 200
        assert caller.delete(f"{LIST}{tx['id']}/").status_code == 204
        if connection.vendor == "postgresql":
            expected = [True, False] if caller is as_editor else [True]
            assert sent == [[True, False], *[expected] * 3], sent
        else:
            assert sent == []
    assert not Transaction.objects.filter(budget=budget).exists()


@pytest.mark.django_db(transaction=True)
def test_a_create_naming_a_budget_the_caller_cannot_see_neither_waits_for_nor_takes_its_lock(client_for):
    """The create reads its budget by locking it (services.transaction_create_in), and the
    lock takes only a budget the caller can view: a stranger naming someone else's budget is
    an unknown id at once, whoever holds that budget. On PostgreSQL another session holds
    the row meanwhile; a lock asked for would wait there, and lock_timeout turns the wait
    into a failed request. SQLite has no row to hold: the answer, and nothing written."""
    owner_budget = BudgetFactory()
    as_stranger = client_for(UserFactory())
    new = {"budget": owner_budget.pk, "kind": "expense", "amount": "1.00", "date": "2026-01-02"}
    if connection.vendor != "postgresql":
        assert_error(as_stranger.post(LIST, new, format="json"), 400, "does_not_exist", "budget")
        assert not Transaction.objects.exists()
        return
    with psycopg.connect(**connection.get_connection_params()) as holder, holder.transaction():
        holder.execute("SELECT id FROM budgets_budget WHERE id = %s FOR UPDATE", [owner_budget.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        try:
            response = as_stranger.post(LIST, new, format="json")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert_error(response, 400, "does_not_exist", "budget")
    assert not Transaction.objects.exists()


def test_import_runs_a_fixed_number_of_queries_per_batch_whatever_its_rows(
    owner_with_one_budget, monkeypatch
):
    """An import costs a fixed few statements for the file and two per batch of BATCH_ROWS
    rows (the budget's rows on the batch's new dates, for duplicates; the batch's rows in one
    write: COPY on PostgreSQL, one INSERT on SQLite), however many rows each batch holds."""
    from transactions import imports

    _, budget, client = owner_with_one_budget
    CategoryFactory(budget=budget, name="Food")
    calls = iter(range(2000, 2100))

    def import_queries(batches: int, rows_per_batch: int) -> list[str]:
        monkeypatch.setattr(imports, "BATCH_ROWS", rows_per_batch)
        year = next(calls)  # each file on dates of its own; each batch in a month of its own
        lines = "".join(
            f"{year}-{batch + 1:02d}-{row % 28 + 1:02d},{row + 1}.00,expense,"
            f"{'Food' if row % 2 else f'New {year}'},Payee {row},,\n"
            for batch in range(batches)
            for row in range(rows_per_batch)
        )
        with CaptureQueriesContext(connection) as queries:
            response = import_csv(client, budget.pk, IMPORT_HEADER + lines, create_categories="true")
        assert response.status_code == 201, response.json()
        assert response.json()["created"] == batches * rows_per_batch
        assert response.json()["categories_created"] == [f"New {year}"]
        statements = [q["sql"] for q in queries.captured_queries]
        return [sql for sql in statements if not sql.startswith(("SAVEPOINT", "RELEASE"))]

    one, four_small, four_large = import_queries(1, 5), import_queries(4, 5), import_queries(4, 40)
    assert len(four_small) == len(four_large)
    assert len(four_small) - len(one) == 3 * 2
    writes = [sql for sql in four_large if sql.startswith(("COPY", 'INSERT INTO "transactions_transaction"'))]
    assert len(writes) == 4
    reads = [sql for sql in four_large if 'FROM "transactions_transaction"' in sql]
    assert len(reads) == 4
    assert Transaction.objects.filter(budget=budget).count() == 5 + 4 * 5 + 4 * 40


def test_a_create_validated_against_another_budget_than_the_locked_one_is_refused(owner_with_one_budget):
    """transaction_create_in writes into the budget its lock read, and only that: a
    validation that hands back any other row (or a split, whose households lock first) is a
    programming error, not a write."""
    from transactions import services

    owner, budget, _client = owner_with_one_budget
    other = BudgetFactory(owner=owner)
    body = {"kind": "expense", "amount_minor": 100, "date": datetime.date(2026, 1, 2)}
    for validated in (
        lambda rows: {**body, "budget": other},
        lambda rows: {**body, "budget": Budget.objects.get(pk=budget.pk)},  # not the locked row
        lambda rows: {**body, "budget": rows[budget.pk], "split": {"household": 1}},
    ):
        with pytest.raises(ValueError, match="the budget it was given"):
            services.transaction_create_in(budget.pk, actor=owner, validated=validated)
    assert (
        services.transaction_create_in(
            budget.pk, actor=owner, validated=lambda rows: {**body, "budget": rows[budget.pk]}
        ).budget_id
        == budget.pk
    )
    assert Transaction.objects.filter(budget=budget).count() == 1
