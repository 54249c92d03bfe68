"""Delta sync: budgets/{id}/changes/, the budget's knowledge, tombstones, the Server-Knowledge
header of writes, the list's last_knowledge_of_server, and retention (410).

A budget's knowledge rises once per database transaction, so these tests commit each request
as a server does (transactional_db): inside one test transaction, every request would be one
write."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from budgets import sync
from budgets.models import BudgetKnowledge, Tombstone
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from households.tests.factories import make_household
from server.tests.helpers import MigrationEditor, assert_error
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db(transaction=True)

TX = "/api/v1/transactions/"


def changes_url(budget_id: int) -> str:
    return f"/api/v1/budgets/{budget_id}/changes/"


def knowledge(budget) -> int:
    return (
        BudgetKnowledge.objects.filter(budget_id=budget.pk).values_list("server_knowledge", flat=True).first()
        or 0
    )


def _tx_body(budget, **extra):
    return {"budget": budget.pk, "kind": "expense", "amount": "12.30", "date": "2026-03-01", **extra}


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def budget(owner):
    return BudgetFactory(owner=owner, name="Groceries")


@pytest.fixture
def api(owner, client_for):
    return client_for(owner)


# --- the answer -------------------------------------------------------------------------------


def test_without_knowledge_the_answer_is_the_whole_budget_and_no_deletions(api, budget):
    food = CategoryFactory(budget=budget, name="Food")
    kept = TransactionFactory(budget=budget, category=food)
    TransactionFactory(budget=budget).delete()
    body = api.get(changes_url(budget.pk)).json()
    assert set(body) == {"server_knowledge", "budget", "categories", "transactions"}
    assert body["server_knowledge"] == knowledge(budget) > 0
    assert body["budget"] == api.get(f"/api/v1/budgets/{budget.pk}/").json()
    assert body["categories"] == [{**api.get(f"/api/v1/categories/{food.pk}/").json(), "deleted": False}]
    assert body["transactions"] == [{**api.get(f"{TX}{kept.pk}/").json(), "deleted": False}]


def test_with_knowledge_the_answer_is_what_changed_since_and_what_went(api, budget):
    untouched = TransactionFactory(budget=budget)
    changed = TransactionFactory(budget=budget)
    gone = TransactionFactory(budget=budget)
    food = CategoryFactory(budget=budget, name="Food")
    since = api.get(changes_url(budget.pk)).json()["server_knowledge"]

    api.patch(f"{TX}{changed.pk}/", {"notes": "again"}, format="json")
    api.delete(f"{TX}{gone.pk}/")
    api.delete(f"/api/v1/categories/{food.pk}/")
    added = api.post(TX, _tx_body(budget), format="json").json()

    body = api.get(changes_url(budget.pk), {"last_knowledge_of_server": since}).json()
    assert body["server_knowledge"] == since + 4  # one per write request
    assert [row["id"] for row in body["transactions"] if not row["deleted"]] == [changed.pk, added["id"]]
    assert [row for row in body["transactions"] if row["deleted"]] == [{"id": gone.pk, "deleted": True}]
    assert body["categories"] == [{"id": food.pk, "deleted": True}]
    assert untouched.pk not in [row["id"] for row in body["transactions"]]
    nothing = api.get(changes_url(budget.pk), {"last_knowledge_of_server": body["server_knowledge"]}).json()
    assert (nothing["categories"], nothing["transactions"]) == ([], [])


def test_knowledge_zero_is_everything_and_every_deletion(api, budget):
    kept = TransactionFactory(budget=budget)
    gone = TransactionFactory(budget=budget)
    gone_id = gone.pk
    gone.delete()
    body = api.get(changes_url(budget.pk), {"last_knowledge_of_server": 0}).json()
    assert [(row["id"], row["deleted"]) for row in body["transactions"]] == [
        (kept.pk, False),
        (gone_id, True),
    ]


def test_a_write_raises_the_knowledge_once_however_many_rows_it_writes(api, budget):
    before = knowledge(budget)
    response = api.post(f"{TX}bulk/", [_tx_body(budget) for _ in range(5)], format="json")
    assert response.status_code == 201
    assert knowledge(budget) == before + 1
    assert set(Transaction.objects.filter(budget=budget).values_list("knowledge", flat=True)) == {before + 1}
    assert response["Server-Knowledge"] == f"{budget.pk}={before + 1}"


def test_writes_to_other_budgets_leave_this_ones_knowledge_alone(api, owner, budget):
    other = BudgetFactory(owner=owner)
    before = knowledge(budget)
    api.post(TX, _tx_body(other), format="json")
    assert knowledge(budget) == before


def test_every_write_answer_carries_the_new_knowledge_of_its_budgets(api, owner, budget):
    category = api.post("/api/v1/categories/", {"budget": budget.pk, "name": "Food"}, format="json")
    assert category["Server-Knowledge"] == f"{budget.pk}={knowledge(budget)}"
    created = api.post(TX, _tx_body(budget), format="json")
    assert created["Server-Knowledge"] == f"{budget.pk}={knowledge(budget)}"
    other = BudgetFactory(owner=owner)
    moved = api.patch(f"{TX}{created.json()['id']}/", {"budget": other.pk}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved["Server-Knowledge"] == ", ".join(
        f"{b.pk}={knowledge(b)}" for b in sorted((budget, other), key=lambda b: b.pk)
    )
    deleted = api.delete(f"{TX}{created.json()['id']}/")
    assert deleted["Server-Knowledge"] == f"{other.pk}={knowledge(other)}"
    renamed = api.patch(f"/api/v1/budgets/{budget.pk}/", {"name": "Food and drink"}, format="json")
    assert renamed["Server-Knowledge"] == f"{budget.pk}={knowledge(budget)}"
    upload = io.BytesIO(
        b"date,amount,kind,category,payee,description,notes\n2026-03-01,1.00,expense,,Shop,,\n"
    )
    upload.name = "import.csv"
    imported = api.post(f"{TX}import/", {"budget": budget.pk, "file": upload}, format="multipart")
    assert imported["Server-Knowledge"] == f"{budget.pk}={knowledge(budget)}"
    # Reads and refusals carry none.
    assert "Server-Knowledge" not in api.get(changes_url(budget.pk))
    assert "Server-Knowledge" not in api.post(TX, _tx_body(budget, amount="-1"), format="json")


def test_a_moved_transaction_is_a_deletion_for_the_budget_it_left_until_it_comes_back(api, owner, budget):
    other = BudgetFactory(owner=owner)
    tx = TransactionFactory(budget=budget)
    since = knowledge(budget)
    api.patch(f"{TX}{tx.pk}/", {"budget": other.pk}, format="json")
    left = api.get(changes_url(budget.pk), {"last_knowledge_of_server": since}).json()
    assert left["transactions"] == [{"id": tx.pk, "deleted": True}]
    arrived = api.get(changes_url(other.pk), {"last_knowledge_of_server": 0}).json()
    assert [row["id"] for row in arrived["transactions"]] == [tx.pk]

    api.patch(f"{TX}{tx.pk}/", {"budget": budget.pk}, format="json")
    back = api.get(changes_url(budget.pk), {"last_knowledge_of_server": since}).json()
    assert [(row["id"], row["deleted"]) for row in back["transactions"]] == [(tx.pk, False)]


def test_a_deleted_category_changes_its_transactions_for_the_client(api, budget):
    food = CategoryFactory(budget=budget)
    tx = TransactionFactory(budget=budget, category=food)
    since = knowledge(budget)
    api.delete(f"/api/v1/categories/{food.pk}/")
    body = api.get(changes_url(budget.pk), {"last_knowledge_of_server": since}).json()
    assert body["categories"] == [{"id": food.pk, "deleted": True}]
    assert [(row["id"], row["category"]) for row in body["transactions"]] == [(tx.pk, None)]


# --- who may ask, and when it is too late --------------------------------------------------


def test_changes_are_for_viewers_and_a_revoked_budget_is_the_unknown_ids_404(owner, budget, client_for):
    viewer = UserFactory()
    home = make_household(owner, members=[viewer])
    share_household(budget, home, "view")
    assert client_for(viewer).get(changes_url(budget.pk)).status_code == 200
    client_for(owner).delete(f"/api/v1/budgets/{budget.pk}/shares/households/{home.pk}/")
    refused = client_for(viewer).get(changes_url(budget.pk))
    assert_error(refused, 404, code="not_found")
    assert refused.content == client_for(viewer).get(changes_url(987_654_321)).content
    assert client_for(UserFactory()).get(changes_url(budget.pk)).content == refused.content


@pytest.mark.parametrize("level", ["view", "edit", None])
def test_the_budget_in_changes_is_the_budget_as_its_own_route_shows_it(owner, budget, client_for, level):
    """changes/ reads the budget in one compiled statement of its own: it must show what
    budgets/{id}/ shows, rights included, to the owner and to each kind of sharee."""
    caller = owner
    if level is not None:
        caller = UserFactory()
        make_household(owner, members=[caller])
        share_user(budget, caller, level)
    api = client_for(caller)
    client_for(owner).patch(f"/api/v1/budgets/{budget.pk}/", {"name": "Renamed"}, format="json")
    shown = api.get(f"/api/v1/budgets/{budget.pk}/").json()
    assert api.get(changes_url(budget.pk)).json()["budget"] == shown
    assert shown["name"] == "Renamed" and shown["owner"]["email"] == owner.email


def test_a_knowledge_the_budget_never_had_is_gone(api, budget):
    now = knowledge(budget)
    assert api.get(changes_url(budget.pk), {"last_knowledge_of_server": now}).status_code == 200
    assert_error(
        api.get(changes_url(budget.pk), {"last_knowledge_of_server": now + 1}), 410, code="resync_required"
    )


@pytest.mark.parametrize(("value", "code"), [("abc", "invalid"), ("1.5", "invalid"), ("-1", "min_value")])
def test_an_unreadable_knowledge_is_a_400(api, budget, value, code):
    assert_error(
        api.get(changes_url(budget.pk), {"last_knowledge_of_server": value}),
        400,
        code=code,
        attr="last_knowledge_of_server",
    )


def test_past_the_retention_a_sync_from_before_the_pruned_deletions_is_gone(api, budget, settings):
    settings.TOMBSTONE_RETENTION_DAYS = 90
    early = knowledge(budget)
    first = TransactionFactory(budget=budget).pk
    Transaction.objects.filter(pk=first).delete()
    # Deleted 91 days ago (the database's clock writes deleted_at: moved back by hand).
    Tombstone.objects.filter(object_id=first).update(deleted_at=timezone.now() - datetime.timedelta(days=91))
    middle = knowledge(budget)
    second = TransactionFactory(budget=budget).pk
    Transaction.objects.filter(pk=second).delete()
    call_command("prune_tombstones", stdout=io.StringIO())

    assert list(Tombstone.objects.filter(budget_id=budget.pk).values_list("object_id", flat=True)) == [second]
    assert BudgetKnowledge.objects.get(budget_id=budget.pk).tombstone_floor == middle
    assert_error(
        api.get(changes_url(budget.pk), {"last_knowledge_of_server": early}), 410, code="resync_required"
    )
    kept = api.get(changes_url(budget.pk), {"last_knowledge_of_server": middle})
    assert kept.json()["transactions"] == [{"id": second, "deleted": True}]
    assert api.get(changes_url(budget.pk)).status_code == 200  # a full sync always works


def test_past_the_retention_the_410_does_not_wait_for_prune_tombstones(api, budget, settings):
    settings.TOMBSTONE_RETENTION_DAYS = 90
    early = knowledge(budget)
    first = TransactionFactory(budget=budget).pk
    Transaction.objects.filter(pk=first).delete()
    old = timezone.now() - datetime.timedelta(days=91)
    Tombstone.objects.filter(object_id=first).update(deleted_at=old)
    after_it = knowledge(budget)
    assert Tombstone.objects.filter(budget_id=budget.pk).count() == 1  # not pruned

    assert_error(
        api.get(changes_url(budget.pk), {"last_knowledge_of_server": early}), 410, code="resync_required"
    )
    assert (
        api.get(changes_url(budget.pk), {"last_knowledge_of_server": after_it}).json()["transactions"] == []
    )
    # Within the retention the same deletion is still reported.
    settings.TOMBSTONE_RETENTION_DAYS = 92
    body = api.get(changes_url(budget.pk), {"last_knowledge_of_server": early}).json()
    assert body["transactions"] == [{"id": first, "deleted": True}]


def test_deleting_a_budget_takes_its_knowledge_and_tombstones(api, budget):
    TransactionFactory(budget=budget).delete()
    assert Tombstone.objects.filter(budget_id=budget.pk).exists()
    budget_id = budget.pk
    api.delete(f"/api/v1/budgets/{budget_id}/")
    assert not Tombstone.objects.filter(budget_id=budget_id).exists()
    assert not BudgetKnowledge.objects.filter(budget_id=budget_id).exists()


def test_changes_cost_the_same_queries_however_many_rows_changed(api, budget, django_assert_num_queries):
    home = make_household(budget.owner, members=[UserFactory()])
    share_household(budget, home)
    api.get(changes_url(budget.pk))  # what a process looks up once
    counts = []
    for rows in (1, 30):
        since = knowledge(budget)
        for _ in range(rows):
            TransactionFactory(budget=budget, category=CategoryFactory(budget=budget))
        TransactionFactory(budget=budget).delete()
        with CaptureQueriesContext(connection) as captured:
            body = api.get(changes_url(budget.pk), {"last_knowledge_of_server": since}).json()
        assert len(body["transactions"]) == rows + 1
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts


# --- the list ------------------------------------------------------------------------------


def test_the_list_takes_a_knowledge_with_its_budget(api, budget):
    old = TransactionFactory(budget=budget)
    since = knowledge(budget)
    new = TransactionFactory(budget=budget)
    body = api.get(TX, {"budget": budget.pk, "last_knowledge_of_server": since}).json()
    assert [row["id"] for row in body["results"]] == [new.pk]
    assert body["count"] == 1
    everything = api.get(TX, {"budget": budget.pk, "last_knowledge_of_server": 0}).json()
    assert {row["id"] for row in everything["results"]} == {old.pk, new.pk}


def test_the_list_refuses_a_knowledge_without_its_budget(api, budget):
    assert_error(
        api.get(TX, {"last_knowledge_of_server": 3}),
        400,
        code="budget_required",
        attr="last_knowledge_of_server",
    )


# --- a client that syncs in steps rebuilds the budget exactly -----------------------------

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(1, 99_999), st.booleans()),
        st.tuples(st.just("update"), st.integers(0, 50), st.integers(1, 99_999)),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("move"), st.integers(0, 50)),
        st.tuples(st.just("category"), st.integers(0, 3)),
        st.tuples(st.just("drop_category"), st.integers(0, 50)),
        st.tuples(
            st.just("sync"),
        ),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_a_client_replaying_changes_in_steps_holds_exactly_the_budgets_rows(client_for, operations):
    owner = UserFactory()
    api = client_for(owner)
    budget = BudgetFactory(owner=owner)
    elsewhere = BudgetFactory(owner=owner)
    client = {"knowledge": 0, "categories": {}, "transactions": {}}

    def sync():
        body = api.get(changes_url(budget.pk), {"last_knowledge_of_server": client["knowledge"]})
        assert body.status_code == 200, body.content
        body = body.json()
        for kind in ("categories", "transactions"):
            for row in body[kind]:
                if row["deleted"]:
                    client[kind].pop(row["id"], None)
                else:
                    client[kind][row["id"]] = row
        client["knowledge"] = body["server_knowledge"]

    def pick(model_rows: list, index: int):
        return model_rows[index % len(model_rows)] if model_rows else None

    for operation in operations:
        kind = operation[0]
        rows = list(Transaction.objects.filter(budget=budget).order_by("id"))
        moved_away = list(Transaction.objects.filter(budget=elsewhere).order_by("id"))
        categories = list(budget.categories.order_by("id"))
        if kind == "create":
            body = _tx_body(budget, amount=f"{operation[1] / 100:.2f}")
            if operation[2] and categories:
                body["category"] = categories[-1].pk
            assert api.post(TX, body, format="json").status_code == 201
        elif kind == "update" and rows:
            tx = pick(rows, operation[1])
            api.patch(f"{TX}{tx.pk}/", {"amount": f"{operation[2] / 100:.2f}", "notes": "n"}, format="json")
        elif kind == "delete" and rows:
            api.delete(f"{TX}{pick(rows, operation[1]).pk}/")
        elif kind == "move" and (rows or moved_away):
            # Out of the budget, or back into it.
            if moved_away and operation[1] % 2:
                api.patch(f"{TX}{pick(moved_away, operation[1]).pk}/", {"budget": budget.pk}, format="json")
            elif rows:
                api.patch(f"{TX}{pick(rows, operation[1]).pk}/", {"budget": elsewhere.pk}, format="json")
        elif kind == "category":
            api.post(
                "/api/v1/categories/",
                {"budget": budget.pk, "name": f"C{len(categories)}-{operation[1]}"},
                format="json",
            )
        elif kind == "drop_category" and categories:
            api.delete(f"/api/v1/categories/{pick(categories, operation[1]).pk}/")
        elif kind == "sync":
            sync()
    sync()
    everything = api.get(changes_url(budget.pk)).json()
    assert client["knowledge"] == everything["server_knowledge"]
    assert client["categories"] == {row["id"]: row for row in everything["categories"]}
    assert client["transactions"] == {row["id"]: row for row in everything["transactions"]}
    # And against the budget's rows as the rest of the API shows them, not changes/ alone.
    assert set(client["categories"]) == set(budget.categories.values_list("id", flat=True))
    listed = api.get(TX, {"budget": budget.pk, "limit": 500}).json()["results"]
    assert client["transactions"] == {row["id"]: {**row, "deleted": False} for row in listed}


def test_rows_written_before_the_feature_reach_a_client_through_a_full_sync(api, budget):
    tx = TransactionFactory(budget=budget)
    install, uninstall = sync.row_triggers("transactions_transaction", "transaction", movable=True)
    uninstall(None, MigrationEditor())
    try:  # as migration 0008 left the rows already there: no knowledge
        Transaction.objects.filter(pk=tx.pk).update(knowledge=None)
    finally:
        install(None, MigrationEditor())
    assert Transaction.objects.get(pk=tx.pk).knowledge is None
    body = api.get(changes_url(budget.pk)).json()
    assert [row["id"] for row in body["transactions"]] == [tx.pk]
    assert (
        api.get(changes_url(budget.pk), {"last_knowledge_of_server": 0}).json()["transactions"][0]["id"]
        == tx.pk
    )


def test_a_share_seen_by_the_sharee_brings_the_budget_into_their_list(owner, budget, client_for):
    friend = UserFactory()
    make_household(owner, members=[friend])
    listed = client_for(friend).get("/api/v1/budgets/").json()["results"]
    assert budget.pk not in [b["id"] for b in listed]
    share_user(budget, friend, "view")
    listed = client_for(friend).get("/api/v1/budgets/").json()["results"]
    assert budget.pk in [b["id"] for b in listed]
    assert client_for(friend).get(changes_url(budget.pk)).status_code == 200
