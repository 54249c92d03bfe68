"""Reading the change log: budgets/{id}/history/, categories/{id}/history/,
transactions/{id}/history/ and households/{id}/activity/. Who may read each (exactly those
who can view the object now; anyone else gets the unknown id's 404), what each shows, the
filters and the pages."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household
from history.models import Event
from history.tests.helpers import mark
from server.tests.helpers import assert_error
from server.tests.world import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    EDITOR,
    MEMBER,
    OWNER,
    READERS,
    VIEWER,
    build_world,
)
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

MISSING = 987_654_321
HOME_MEMBERS = (OWNER, ADMIN, EDITOR, VIEWER, MEMBER)


@pytest.fixture
def world(db):
    world = build_world()
    world.category = CategoryFactory(budget=world.budget, name="Food")
    api = world.client(OWNER)
    world.tx = Transaction.objects.get(
        pk=api.post(
            "/api/v1/transactions/",
            {
                "budget": world.budget.pk,
                "category": world.category.pk,
                "kind": "expense",
                "amount": "12.30",
                "date": "2026-03-01",
                "payee": "Market",
            },
            format="json",
        ).json()["id"]
    )
    api.patch(f"/api/v1/transactions/{world.tx.pk}/", {"notes": "for the party"}, format="json")
    return world


def _routes(world) -> dict[str, tuple[str, str]]:
    """route -> (the path for the world's object, the path for an id that never existed)."""
    return {
        "budget": (f"/api/v1/budgets/{world.budget.pk}/history/", f"/api/v1/budgets/{MISSING}/history/"),
        "category": (
            f"/api/v1/categories/{world.category.pk}/history/",
            f"/api/v1/categories/{MISSING}/history/",
        ),
        "transaction": (
            f"/api/v1/transactions/{world.tx.pk}/history/",
            f"/api/v1/transactions/{MISSING}/history/",
        ),
        "activity": (
            f"/api/v1/households/{world.home.pk}/activity/",
            f"/api/v1/households/{MISSING}/activity/",
        ),
    }


def _allowed(route: str, actor: str) -> bool:
    return actor in (HOME_MEMBERS if route == "activity" else READERS)


@pytest.mark.parametrize("route", ["budget", "category", "transaction", "activity"])
@pytest.mark.parametrize("actor", ACTORS)
def test_history_is_read_by_those_who_can_view_the_object_and_is_the_unknown_ids_404_to_others(
    world, route, actor
):
    path, missing = _routes(world)[route]
    client = world.client(actor)
    response = client.get(path)
    if actor == ANONYMOUS:
        assert_error(response, 401, code="not_authenticated")
    elif _allowed(route, actor):
        assert response.status_code == 200, response.content
        assert set(response.json()) == {"next", "results"}
    else:
        assert_error(response, 404, code="not_found")
        assert response.content == client.get(missing).content


def test_a_transactions_history_is_its_every_change(world):
    body = world.client(VIEWER).get(f"/api/v1/transactions/{world.tx.pk}/history/").json()
    update, create = body["results"]
    assert (create["action"], update["action"]) == ("create", "update")
    owner = world.owner
    assert update == {
        "id": update["id"],
        "at": update["at"],
        "object_type": "transaction",
        "object_id": world.tx.pk,
        "action": "update",
        "budget": world.budget.pk,
        "household": None,
        "transaction": world.tx.pk,
        "changes": {"notes": ["", "for the party"]},
        "actor": {"id": owner.pk, "email": owner.email, "deleted": False},
        "source": "api",
        "request_id": update["request_id"],
    }
    assert create["changes"]["amount"] == [None, "12.30"]
    assert body["next"] is None


def test_a_moved_transactions_history_shows_a_viewer_only_what_happened_in_budgets_they_view(world):
    """Moved from the owner's private budget into the shared one, a transaction's earlier
    life stays the owner's: the viewer of the shared budget sees the events its history shows
    (the move and after), as budgets/{id}/history/ does, not the private budget's."""
    owner = world.client(OWNER)
    private = BudgetFactory(owner=world.owner, currency=world.budget.currency)
    tx_id = owner.post(
        "/api/v1/transactions/",
        {
            "budget": private.pk,
            "kind": "expense",
            "amount": "40.00",
            "date": "2026-03-02",
            "notes": "gift for V",
        },
        format="json",
    ).json()["id"]
    owner.patch(f"/api/v1/transactions/{tx_id}/", {"payee": "Shop"}, format="json")
    moved = owner.patch(
        f"/api/v1/transactions/{tx_id}/", {"budget": world.budget.pk, "notes": ""}, format="json"
    )
    assert moved.status_code == 200, moved.content
    everything = owner.get(f"/api/v1/transactions/{tx_id}/history/").json()["results"]
    assert [(e["action"], e["budget"]) for e in everything] == [
        ("update", world.budget.pk),
        ("update", private.pk),
        ("create", private.pk),
    ]
    assert everything[0]["changes"] == {"budget": [private.pk, world.budget.pk], "notes": ["gift for V", ""]}
    viewer = world.client(VIEWER)
    seen = viewer.get(f"/api/v1/transactions/{tx_id}/history/").json()["results"]
    # The move, without what the row was in the private budget.
    hidden = {"budget": [None, world.budget.pk], "notes": [None, ""]}
    assert seen == [{**everything[0], "changes": hidden}]
    in_budget = viewer.get(f"/api/v1/budgets/{world.budget.pk}/history/", {"object_type": "transaction"})
    assert in_budget.json()["results"][0] == seen[0]
    assert b"gift" not in in_budget.content


def test_a_budgets_history_keeps_a_deleted_transaction_which_its_own_route_no_longer_serves(world):
    owner = world.client(OWNER)
    tx_id = world.tx.pk
    owner.delete(f"/api/v1/transactions/{tx_id}/")
    assert_error(owner.get(f"/api/v1/transactions/{tx_id}/history/"), 404, code="not_found")
    events = owner.get(f"/api/v1/budgets/{world.budget.pk}/history/", {"object_type": "transaction"}).json()
    assert [(e["object_id"], e["action"]) for e in events["results"]] == [
        (tx_id, "delete"),
        (tx_id, "update"),
        (tx_id, "create"),
    ]


def test_a_budgets_shares_are_in_its_history_only_for_those_who_see_its_shares(world):
    path = f"/api/v1/budgets/{world.budget.pk}/history/"
    for actor, sees in ((OWNER, True), (EDITOR, True), (VIEWER, False)):
        types = {e["object_type"] for e in world.client(actor).get(path, {"limit": 500}).json()["results"]}
        assert ("share" in types) is sees, actor
        assert {"budget", "category", "transaction"} <= types


def test_an_event_of_a_site_admin_names_no_one_and_a_deleted_account_is_shown_deleted(world):
    Event.objects.filter(object_type="transaction", object_id=world.tx.pk, action="update").update(
        source="admin"
    )
    world.owner.budgets.exclude(pk=world.budget.pk).delete()
    body = world.client(EDITOR).get(f"/api/v1/transactions/{world.tx.pk}/history/").json()
    assert [e["actor"] for e in body["results"]] == [
        None,
        {"id": world.owner.pk, "email": world.owner.email, "deleted": False},
    ]
    Event.objects.filter(object_id=world.tx.pk).update(actor=None)  # as the account's deletion leaves it
    body = world.client(EDITOR).get(f"/api/v1/transactions/{world.tx.pk}/history/").json()
    assert body["results"][1]["actor"] == {"id": None, "email": None, "deleted": True}


# --- the household's activity ----------------------------------------------------------------


def _activity(world, actor: str, **query) -> list[dict]:
    response = world.client(actor).get(
        f"/api/v1/households/{world.home.pk}/activity/", {"limit": 500, **query}
    )
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_activity_shows_the_households_memberships_and_its_budgets_to_its_members(world):
    kitty = BudgetFactory(owner=world.owner, name="Kitty")
    share_household(kitty, world.home, "view")
    TransactionFactory(budget=kitty, payee="Shared shopping")
    events = _activity(world, MEMBER)
    assert {e["object_type"] for e in events} >= {"membership", "budget", "transaction"}
    assert {e["budget"] for e in events if e["budget"] is not None} == {kitty.pk}
    # The world's budget is not shared with Home: none of it, even to those who can view it.
    assert world.budget.pk not in {e["budget"] for e in _activity(world, EDITOR)}
    # A member does not see the budget's shares (as its shares list); its owner does.
    assert "share" not in {e["object_type"] for e in events}
    assert "share" in {e["object_type"] for e in _activity(world, OWNER)}


def test_activity_shows_nothing_of_a_budget_once_its_share_is_revoked(world):
    kitty = BudgetFactory(owner=world.owner, name="Kitty")
    share_household(kitty, world.home, "view")
    TransactionFactory(budget=kitty)
    assert kitty.pk in {e["budget"] for e in _activity(world, MEMBER)}
    response = world.client(OWNER).delete(f"/api/v1/budgets/{kitty.pk}/shares/households/{world.home.pk}/")
    assert response.status_code == 204
    assert kitty.pk not in {e["budget"] for e in _activity(world, MEMBER)}
    # Its owner still sees the revocation of the share to this household, and nothing else of it.
    owners = [e for e in _activity(world, OWNER) if e["budget"] == kitty.pk]
    assert {(e["object_type"], e["action"]) for e in owners} == {("share", "create"), ("share", "delete")}


def test_activity_of_a_household_one_left_is_the_unknown_ids_404(world):
    client = world.client(MEMBER)
    assert client.post(f"/api/v1/households/{world.home.pk}/leave/").status_code == 204
    assert_error(client.get(f"/api/v1/households/{world.home.pk}/activity/"), 404, code="not_found")


def test_a_split_in_a_budget_the_member_cannot_view_stays_out_of_their_activity(world):
    # The owner splits, with the editor, a transaction of a budget shared with the editor only.
    owner = world.client(OWNER)
    created = owner.post(
        "/api/v1/transactions/",
        {
            "budget": world.budget.pk,
            "kind": "expense",
            "amount": "10.00",
            "date": "2026-03-02",
            "split": {
                "household": world.home.pk,
                "paid_by": world.owner.pk,
                "mode": "equal",
                "shares": [
                    {"user": world.owner.pk},
                    {"user": world.editor.pk},
                ],
            },
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    splits = [e for e in _activity(world, EDITOR) if e["object_type"] in ("split", "split_share")]
    assert {e["transaction"] for e in splits} == {created.json()["id"]}
    assert all(e["object_type"] not in ("split", "split_share") for e in _activity(world, MEMBER))


# --- filters and pages -------------------------------------------------------------------------


def test_history_filters_by_actor_type_and_time(world):
    path = f"/api/v1/budgets/{world.budget.pk}/history/"
    editor = world.client(EDITOR)
    editor.patch(f"/api/v1/transactions/{world.tx.pk}/", {"payee": "Corner shop"}, format="json")
    mine = editor.get(path, {"actor": world.editor.pk}).json()["results"]
    assert [(e["object_type"], e["changes"]) for e in mine] == [
        ("transaction", {"payee": ["Market", "Corner shop"]})
    ]
    categories = editor.get(path, {"object_type": "category"}).json()["results"]
    assert {e["object_type"] for e in categories} == {"category"}
    Event.objects.filter(budget_id=world.budget.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    Event.objects.filter(pk=mine[0]["id"]).update(created_at=timezone.now())
    yesterday = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    recent = editor.get(path, {"since": yesterday}).json()["results"]
    assert [e["id"] for e in recent] == [mine[0]["id"]]
    older = editor.get(path, {"until": yesterday, "limit": 500}).json()["results"]
    assert mine[0]["id"] not in [e["id"] for e in older] and older
    day = (timezone.now() - datetime.timedelta(days=1)).date().isoformat()
    assert [e["id"] for e in editor.get(path, {"since": day}).json()["results"]] == [mine[0]["id"]]


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("actor", "abc", "invalid"),
        ("actor", "0", "min_value"),
        ("object_type", "user", "invalid_choice"),
        ("since", "yesterday", "invalid"),
        ("until", "2026-13-01", "invalid"),
        ("cursor", "not-a-cursor", "invalid"),
        ("cursor", "ZTA", "invalid"),  # "e0"
        ("limit", "0", "min_value"),
        ("limit", "1.5", "invalid"),
    ],
)
def test_an_unreadable_query_is_a_400_naming_the_parameter(world, name, value, code):
    response = world.client(OWNER).get(f"/api/v1/budgets/{world.budget.pk}/history/", {name: value})
    assert_error(response, 400, code=code, attr=name)


def test_pages_follow_the_cursor_to_the_oldest_event_without_repeats(world):
    owner = world.client(OWNER)
    for n in range(7):
        owner.patch(f"/api/v1/transactions/{world.tx.pk}/", {"notes": f"note {n}"}, format="json")
    everything = [
        e["id"]
        for e in owner.get(f"/api/v1/transactions/{world.tx.pk}/history/", {"limit": 500}).json()["results"]
    ]
    assert everything == sorted(everything, reverse=True) and len(everything) == 9
    seen, url = [], f"/api/v1/transactions/{world.tx.pk}/history/?limit=4"
    while url:
        page = owner.get(url).json()
        seen += [e["id"] for e in page["results"]]
        url = page["next"]
        assert url is None or "limit=4" in url
    assert seen == everything


def test_a_limit_above_the_maximum_is_served_as_500(world):
    owner = world.client(OWNER)
    Event.objects.bulk_create(
        Event(
            created_at=timezone.now(),
            object_type="transaction",
            object_id=world.tx.pk,
            budget_id=world.budget.pk,
            transaction_id=world.tx.pk,
            action="update",
            changes={"notes": ["a", "b"]},
            had_actor=False,
            source="system",
        )
        for _ in range(505)
    )
    page = owner.get(f"/api/v1/transactions/{world.tx.pk}/history/", {"limit": 100_000}).json()
    assert len(page["results"]) == 500
    assert "limit=500" in page["next"]


def test_a_page_costs_the_same_queries_however_many_events_it_shows(world):
    owner = world.client(OWNER)
    path = f"/api/v1/budgets/{world.budget.pk}/history/"
    owner.get(path)
    counts = []
    for more in (0, 30):
        for n in range(more):
            TransactionFactory(budget=world.budget, created_by=world.editor, payee=f"P{n}")
        with CaptureQueriesContext(connection) as captured:
            assert owner.get(path, {"limit": 500}).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts
    assert mark() > 0
