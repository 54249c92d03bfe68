"""budgets/ and categories/ over HTTP: who may do what, what they get back, what it leaves."""

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from rest_framework import serializers

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household
from households.models import Household
from households.tests.factories import add_member
from server.tests.helpers import assert_error
from server.tests.openapi_helpers import api_schema
from server.tests.world import (
    ACTORS,
    EDITOR,
    HOUSEHOLD_EDITOR,
    OUTSIDERS,
    OWNER,
    STRANGER,
    VIEWER,
    World,
    build_world,
)

pytestmark = pytest.mark.django_db

BUDGETS = "/api/v1/budgets/"
CATEGORIES = "/api/v1/categories/"
MISSING = 987_654_321

OWNER_RIGHTS = ["view", "change", "delete", "share"]
EDITOR_RIGHTS = ["view", "change"]
VIEWER_RIGHTS = ["view"]

# my_permissions of everyone the budget is visible to (the READERS).
RIGHTS = {
    OWNER: OWNER_RIGHTS,
    EDITOR: EDITOR_RIGHTS,
    VIEWER: VIEWER_RIGHTS,
    HOUSEHOLD_EDITOR: EDITOR_RIGHTS,
}


def _timestamp(value) -> str:
    return serializers.DateTimeField().to_representation(value)


@dataclass
class BudgetsWorld(World):
    """The shared world (server/tests/world.py) with the owner's budget named "Groceries"
    (EUR 123.45) and its one category "Vegetables" (25.00): shared with editor (user share,
    edit), viewer (user share, view) and the household Flat (edit), whose other member is
    household_editor. member, admin and ``newcomer`` are in the owner's household Home
    without a share; stranger lives in Elsewhere; staff, superuser and global_perms hold
    no grant. Every signed-in actor also owns a private budget (EUR 500.00) with one
    category (no allocation): "<actor>'s own", or for the stranger their "Secret"."""

    newcomer: User
    category: Category
    own: dict[str, Budget]

    def call(self, actor: str, route: str, *, missing: bool = False):
        """``route`` as ``actor``; ``missing`` puts an id that never existed in its place."""
        method, url, body = self.route(route, missing=missing)
        client = self.client(actor)
        if body is None:
            return getattr(client, method)(url)
        return getattr(client, method)(url, body, format="json")

    def route(self, route: str, *, missing: bool = False):
        b = MISSING if missing else self.budget.pk
        c = MISSING if missing else self.category.pk
        return {
            "budget-list": ("get", BUDGETS, None),
            "budget-create": ("post", BUDGETS, NEW_BUDGET),
            "budget-retrieve": ("get", f"{BUDGETS}{b}/", None),
            "budget-update": ("put", f"{BUDGETS}{b}/", PUT_BUDGET),
            "budget-partial-update": ("patch", f"{BUDGETS}{b}/", {"name": "Food"}),
            "budget-delete": ("delete", f"{BUDGETS}{b}/", None),
            "shares-list": ("get", f"{BUDGETS}{b}/shares/", None),
            "share-user-put": (
                "put",
                f"{BUDGETS}{b}/shares/users/{self.newcomer.pk}/",
                {"permission": "view"},
            ),
            "share-user-delete": ("delete", f"{BUDGETS}{b}/shares/users/{self.users['viewer'].pk}/", None),
            "share-household-put": (
                "put",
                f"{BUDGETS}{b}/shares/households/{self.home.pk}/",
                {"permission": "edit"},
            ),
            "share-household-delete": ("delete", f"{BUDGETS}{b}/shares/households/{self.flat.pk}/", None),
            "category-list": ("get", CATEGORIES, None),
            "category-create": ("post", CATEGORIES, {"budget": b, "name": "Fruit", "allocated": "12.5"}),
            "category-retrieve": ("get", f"{CATEGORIES}{c}/", None),
            "category-partial-update": ("patch", f"{CATEGORIES}{c}/", {"name": "Greens", "allocated": "30"}),
            "category-delete": ("delete", f"{CATEGORIES}{c}/", None),
            "budget-history": ("get", f"{BUDGETS}{b}/history/", None),
            "category-history": ("get", f"{CATEGORIES}{c}/history/", None),
        }[route]


NEW_BUDGET = {
    "name": "Holiday",
    "amount": "1200.5",
    "currency": "EUR",
    "period": "custom",
    "start_date": "2026-07-01",
    "end_date": "2026-07-31",
}
PUT_BUDGET = {
    "name": "Weekly shop",
    "amount": "80",
    "currency": "EUR",
    "period": "weekly",
    "start_date": "2026-03-02",
}


@pytest.fixture
def world(db) -> BudgetsWorld:
    world = build_world(budget_name="Groceries", budget_amount_minor=12_345)
    newcomer = UserFactory(email="newcomer@example.com")
    add_member(world.home, newcomer)
    category = CategoryFactory(budget=world.budget, name="Vegetables", allocated_minor=2_500)
    own = {
        name: world.foreign_budget if name == STRANGER else BudgetFactory(owner=user, name=f"{name}'s own")
        for name, user in world.users.items()
    }
    for name, budget in own.items():
        CategoryFactory(budget=budget, name=f"{name}'s category", allocated_minor=None)
    return BudgetsWorld.extend(world, newcomer=newcomer, category=category, own=own)


def db_state() -> dict[str, dict]:
    return {
        "budgets": {r["id"]: r for r in Budget.objects.values()},
        "categories": {r["id"]: r for r in Category.objects.values()},
        "user_shares": {r["id"]: r for r in BudgetUserObjectPermission.objects.values()},
        "group_shares": {r["id"]: r for r in BudgetGroupObjectPermission.objects.values()},
    }


def changes(before: dict, after: dict) -> dict[str, dict[str, list]]:
    """What differs, per table: rows added, removed and changed (as (before, after))."""
    out = {}
    for table in before:
        b, a = before[table], after[table]
        diff = {
            "added": [a[k] for k in sorted(a.keys() - b.keys())],
            "removed": [b[k] for k in sorted(b.keys() - a.keys())],
            "changed": [(b[k], a[k]) for k in sorted(a.keys() & b.keys()) if a[k] != b[k]],
        }
        diff = {kind: rows for kind, rows in diff.items() if rows}
        if diff:
            out[table] = diff
    return out


def counts(diff: dict) -> dict[str, dict[str, int]]:
    return {table: {kind: len(rows) for kind, rows in kinds.items()} for table, kinds in diff.items()}


def budget_json(budget: Budget, rights: list[str], amount: str) -> dict:
    budget.refresh_from_db()
    return {
        "id": budget.pk,
        "name": budget.name,
        "amount": amount,
        "currency": budget.currency,
        "period": budget.period,
        "start_date": budget.start_date.isoformat(),
        "end_date": budget.end_date and budget.end_date.isoformat(),
        "owner": {"id": budget.owner_id, "email": budget.owner.email},
        "my_permissions": rights,
        "created_at": _timestamp(budget.created_at),
        "updated_at": _timestamp(budget.updated_at),
        "version": budget.version,
    }


def category_json(category: Category, allocated: str | None) -> dict:
    category.refresh_from_db()
    return {
        "id": category.pk,
        "budget": category.budget_id,
        "name": category.name,
        "allocated": allocated,
        "created_at": _timestamp(category.created_at),
        "version": category.version,
    }


def user_share_json(user: User, permission: str, *, granted_at, version: int) -> dict:
    return {
        "grantee_type": "user",
        "grantee": {"id": user.pk, "email": user.email},
        "permission": permission,
        "granted_by": "owner",
        "granted_at": _timestamp(granted_at),
        "version": version,
    }


def household_share_json(household: Household, permission: str, *, granted_at, version: int) -> dict:
    return {
        "grantee_type": "household",
        "grantee": {"id": household.pk, "name": household.name},
        "permission": permission,
        "granted_by": "owner",
        "granted_at": _timestamp(granted_at),
        "version": version,
    }


def _granted_at(model, budget, **grantee):
    return max(model.objects.filter(content_object=budget, **grantee).values_list("granted_at", flat=True))


def _version(model, budget, **grantee) -> int:
    """A share's version: its lowest row's id (budgets/shares.py)."""
    return min(model.objects.filter(content_object=budget, **grantee).values_list("pk", flat=True))


# The actor matrix ------------------------------------------------------------------------


def _row(owner, editor, viewer, household_editor, outsiders, anonymous=401):
    return {
        "owner": owner,
        "editor": editor,
        "viewer": viewer,
        "household_editor": household_editor,
        **dict.fromkeys(OUTSIDERS, outsiders),
        "anonymous": anonymous,
    }


EXPECTED = {
    #                                 owner editor viewer hh-editor outsiders
    "budget-list": _row(200, 200, 200, 200, 200),
    "budget-create": _row(201, 201, 201, 201, 201),
    "budget-retrieve": _row(200, 200, 200, 200, 404),
    "budget-update": _row(200, 200, 403, 200, 404),
    "budget-partial-update": _row(200, 200, 403, 200, 404),
    "budget-delete": _row(204, 403, 403, 403, 404),
    "shares-list": _row(200, 200, 403, 200, 404),
    "share-user-put": _row(201, 403, 403, 403, 404),
    "share-user-delete": _row(204, 403, 403, 403, 404),
    "share-household-put": _row(201, 403, 403, 403, 404),
    "share-household-delete": _row(204, 403, 403, 403, 404),
    "category-list": _row(200, 200, 200, 200, 200),
    # Outsiders name a budget they cannot see: the same 400 as an unknown id.
    "category-create": _row(201, 201, 403, 201, 400),
    "category-retrieve": _row(200, 200, 200, 200, 404),
    "category-partial-update": _row(200, 200, 403, 200, 404),
    "category-delete": _row(204, 204, 403, 204, 404),
    "budget-history": _row(200, 200, 200, 200, 404),
    "category-history": _row(200, 200, 200, 200, 404),
}
CASES = [(route, actor, status) for route, row in EXPECTED.items() for actor, status in row.items()]
ALLOWED = [case for case in CASES if case[2] < 300]
REFUSED = [case for case in CASES if case[2] >= 300]


def _id(case):
    return "-".join(map(str, case))


# Each row's operation in the schema.
OPERATIONS = {
    "budget-list": "budgets_list",
    "budget-create": "budgets_create",
    "budget-retrieve": "budgets_retrieve",
    "budget-update": "budgets_update",
    "budget-partial-update": "budgets_partial_update",
    "budget-delete": "budgets_destroy",
    "shares-list": "budgets_shares_list",
    "share-user-put": "budgets_shares_users_update",
    "share-user-delete": "budgets_shares_users_destroy",
    "share-household-put": "budgets_shares_households_update",
    "share-household-delete": "budgets_shares_households_destroy",
    "category-list": "categories_list",
    "category-create": "categories_create",
    "category-retrieve": "categories_retrieve",
    "category-partial-update": "categories_partial_update",
    "category-delete": "categories_destroy",
    "budget-history": "budgets_history_retrieve",
    "category-history": "categories_history_retrieve",
}
# Served under budgets/ by transactions (transactions/reports.py and sync.py, their own tests).
NOT_HERE = {"budgets_summary_retrieve", "budgets_report_monthly_retrieve", "budgets_changes_retrieve"}


def test_matrix_covers_every_budget_and_category_operation_of_the_schema_and_every_actor():
    paths = api_schema().raw_schema["paths"]
    documented = {
        operation["operationId"]
        for path, item in paths.items()
        if path.startswith(("/api/v1/budgets/", "/api/v1/categories/"))
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert set(OPERATIONS) == set(EXPECTED)
    assert set(OPERATIONS.values()) == documented - NOT_HERE
    assert all(set(row) == set(ACTORS) for row in EXPECTED.values())


@pytest.mark.parametrize(("route", "actor", "status"), ALLOWED, ids=map(_id, ALLOWED))
def test_allowed_actor_succeeds_and_leaves_the_right_rows(world, route, actor, status):
    before = db_state()
    response = world.call(actor, route)
    assert response.status_code == status, response.content
    CHECKS[route](world, actor, response, changes(before, db_state()))


@pytest.mark.parametrize(("route", "actor", "status"), REFUSED, ids=map(_id, REFUSED))
def test_refused_actor_gets_exact_status_and_changes_nothing(world, route, actor, status):
    before = db_state()
    response = world.call(actor, route)
    if status == 401:
        assert_error(response, 401, code="not_authenticated", attr=None)
        assert response["WWW-Authenticate"].startswith("Bearer")
    elif status == 403:
        assert_error(response, 403, code="permission_denied", attr=None)
    elif status == 404:
        assert_error(response, 404, code="not_found", attr=None)
        assert response.content == world.call(actor, route, missing=True).content
    else:
        assert_error(response, 400, code="does_not_exist", attr="budget")
        missing = world.call(actor, route, missing=True)
        assert_error(missing, 400, code="does_not_exist", attr="budget")
        assert _without(response, world.budget.pk) == _without(missing, MISSING)
    assert changes(before, db_state()) == {}


def _without(response, pk) -> dict:
    """The body with the id the caller sent blanked out: 'Invalid pk "<id>" ...' echoes it."""
    body = response.json()
    for error in body["errors"]:
        error["detail"] = error["detail"].replace(f'"{pk}"', '"<id>"')
    return body


def _visible(world, actor) -> list[Budget]:
    visible = [world.own[actor]]
    if actor in RIGHTS:
        visible.append(world.budget)
    return visible


def check_budget_list(world, actor, response, diff):
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    visible = _visible(world, actor)
    assert body["count"] == len(visible)
    assert (body["next"], body["previous"]) == (None, None)
    assert sorted(body["results"], key=lambda item: item["id"]) == sorted(
        [budget_json(world.own[actor], OWNER_RIGHTS, "500.00")]
        + ([budget_json(world.budget, RIGHTS[actor], "123.45")] if actor in RIGHTS else []),
        key=lambda item: item["id"],
    )
    assert diff == {}


def check_budget_create(world, actor, response, diff):
    assert counts(diff) == {"budgets": {"added": 1}}
    row = diff["budgets"]["added"][0]
    assert row["owner_id"] == world.users[actor].pk
    assert (row["name"], row["amount_minor"], row["currency"], row["period"]) == (
        "Holiday",
        120_050,
        "EUR",
        "custom",
    )
    assert (row["start_date"].isoformat(), row["end_date"].isoformat()) == ("2026-07-01", "2026-07-31")
    assert response.json() == budget_json(Budget.objects.get(pk=row["id"]), OWNER_RIGHTS, "1200.50")


def check_budget_retrieve(world, actor, response, diff):
    assert response.json() == budget_json(world.budget, RIGHTS[actor], "123.45")
    assert diff == {}


def check_budget_update(world, actor, response, diff):
    assert counts(diff) == {"budgets": {"changed": 1}}
    old, new = diff["budgets"]["changed"][0]
    assert new["id"] == world.budget.pk and new["owner_id"] == old["owner_id"]
    assert (new["name"], new["amount_minor"], new["period"], new["start_date"].isoformat()) == (
        "Weekly shop",
        8_000,
        "weekly",
        "2026-03-02",
    )
    assert new["updated_at"] > old["updated_at"] and new["created_at"] == old["created_at"]
    assert response.json() == budget_json(world.budget, RIGHTS[actor], "80.00")


def check_budget_partial_update(world, actor, response, diff):
    assert counts(diff) == {"budgets": {"changed": 1}}
    old, new = diff["budgets"]["changed"][0]
    assert new["name"] == "Food"
    assert {k: v for k, v in new.items() if k not in ("name", "updated_at", "version")} == {
        k: v for k, v in old.items() if k not in ("name", "updated_at", "version")
    }
    assert new["version"] == old["version"] + 1
    assert response.json() == budget_json(world.budget, RIGHTS[actor], "123.45")


def check_budget_delete(world, actor, response, diff):
    assert response.content == b""
    assert counts(diff) == {
        "budgets": {"removed": 1},
        "categories": {"removed": 1},
        "user_shares": {"removed": 3},  # editor: view + change; viewer: view
        "group_shares": {"removed": 2},  # Family: view + change
    }
    assert diff["budgets"]["removed"][0]["id"] == world.budget.pk
    for table in ("user_shares", "group_shares"):
        assert {row["content_object_id"] for row in diff[table]["removed"]} == {world.budget.pk}


def check_shares_list(world, actor, response, diff):
    editor, viewer = world.users["editor"], world.users["viewer"]
    assert response.json() == [
        user_share_json(
            editor,
            "edit",
            granted_at=_granted_at(BudgetUserObjectPermission, world.budget, user=editor),
            version=_version(BudgetUserObjectPermission, world.budget, user=editor),
        ),
        user_share_json(
            viewer,
            "view",
            granted_at=_granted_at(BudgetUserObjectPermission, world.budget, user=viewer),
            version=_version(BudgetUserObjectPermission, world.budget, user=viewer),
        ),
        household_share_json(
            world.flat,
            "edit",
            granted_at=_granted_at(BudgetGroupObjectPermission, world.budget, group=world.flat.group),
            version=_version(BudgetGroupObjectPermission, world.budget, group=world.flat.group),
        ),
    ]
    assert diff == {}


def share_rows_only(world, diff: dict) -> dict:
    """A share's rows, and the budget's version: a share is a new version of its budget
    (its my_permissions changes), and nothing else about the budget changes."""
    ((old, new),) = diff.pop("budgets")["changed"]
    assert old["id"] == world.budget.pk
    assert new["version"] > old["version"]
    unversioned = [{k: v for k, v in row.items() if k != "version"} for row in (old, new)]
    assert unversioned[0] == unversioned[1]
    return diff


def check_share_user_put(world, actor, response, diff):
    assert counts(share_rows_only(world, diff)) == {"user_shares": {"added": 1}}
    row = diff["user_shares"]["added"][0]
    assert (row["user_id"], row["content_object_id"], row["source"], row["granted_by_id"]) == (
        world.newcomer.pk,
        world.budget.pk,
        "owner",
        world.users["owner"].pk,
    )
    assert Permission.objects.get(pk=row["permission_id"]).codename == "view_budget"
    assert response.json() == user_share_json(
        world.newcomer, "view", granted_at=row["granted_at"], version=row["id"]
    )
    assert response["ETag"] == f'"user{world.newcomer.pk}-{row["id"]}"'


def check_share_user_delete(world, actor, response, diff):
    assert response.content == b""
    assert counts(share_rows_only(world, diff)) == {"user_shares": {"removed": 1}}
    assert diff["user_shares"]["removed"][0]["user_id"] == world.users["viewer"].pk


def check_share_household_put(world, actor, response, diff):
    assert counts(share_rows_only(world, diff)) == {"group_shares": {"added": 2}}
    rows = diff["group_shares"]["added"]
    assert {(r["group_id"], r["content_object_id"], r["source"], r["granted_by_id"]) for r in rows} == {
        (world.home.group_id, world.budget.pk, "owner", world.users["owner"].pk)
    }
    codenames = Permission.objects.filter(pk__in=[r["permission_id"] for r in rows]).values_list(
        "codename", flat=True
    )
    assert sorted(codenames) == ["change_budget", "view_budget"]
    version = min(r["id"] for r in rows)
    assert response.json() == household_share_json(
        world.home, "edit", granted_at=max(r["granted_at"] for r in rows), version=version
    )
    assert response["ETag"] == f'"household{world.home.pk}-{version}"'


def check_share_household_delete(world, actor, response, diff):
    assert response.content == b""
    assert counts(share_rows_only(world, diff)) == {"group_shares": {"removed": 2}}
    assert {r["group_id"] for r in diff["group_shares"]["removed"]} == {world.flat.group_id}


def check_category_list(world, actor, response, diff):
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    expected = [category_json(world.own[actor].categories.get(), None)]
    if actor in RIGHTS:
        expected.append(category_json(world.category, "25.00"))
    assert body["count"] == len(expected)
    assert sorted(body["results"], key=lambda item: item["id"]) == sorted(
        expected, key=lambda item: item["id"]
    )
    assert diff == {}


def check_category_create(world, actor, response, diff):
    assert counts(diff) == {"categories": {"added": 1}}
    row = diff["categories"]["added"][0]
    assert (row["budget_id"], row["name"], row["allocated_minor"]) == (world.budget.pk, "Fruit", 1_250)
    assert response.json() == category_json(Category.objects.get(pk=row["id"]), "12.50")


def check_category_retrieve(world, actor, response, diff):
    assert response.json() == category_json(world.category, "25.00")
    assert diff == {}


def check_category_partial_update(world, actor, response, diff):
    assert counts(diff) == {"categories": {"changed": 1}}
    _, new = diff["categories"]["changed"][0]
    assert (new["id"], new["name"], new["allocated_minor"]) == (world.category.pk, "Greens", 3_000)
    assert response.json() == category_json(world.category, "30.00")


def check_category_delete(world, actor, response, diff):
    assert response.content == b""
    assert counts(diff) == {"categories": {"removed": 1}}
    assert diff["categories"]["removed"][0]["id"] == world.category.pk


def check_budget_history(world, actor, response, diff):
    """The world as its factories wrote it (no request: the system), newest first; the
    shares (the owner's, made for the world) only to those who may list them."""
    events = response.json()["results"]
    kinds = {(e["object_type"], e["action"]) for e in events}
    assert {("budget", "create"), ("category", "create")} <= kinds
    assert (("share", "create") in kinds) is (actor != VIEWER)
    assert {e["budget"] for e in events} == {world.budget.pk}
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    assert diff == {}


def check_category_history(world, actor, response, diff):
    (event,) = response.json()["results"]
    assert (event["object_type"], event["object_id"], event["action"]) == (
        "category",
        world.category.pk,
        "create",
    )
    assert event["changes"] == {
        "budget": [None, world.budget.pk],
        "name": [None, "Vegetables"],
        "allocated": [None, "25.00"],
    }
    assert (event["actor"], event["source"], event["request_id"]) == (None, "system", None)
    assert diff == {}


CHECKS = {
    "budget-history": check_budget_history,
    "category-history": check_category_history,
    "budget-list": check_budget_list,
    "budget-create": check_budget_create,
    "budget-retrieve": check_budget_retrieve,
    "budget-update": check_budget_update,
    "budget-partial-update": check_budget_partial_update,
    "budget-delete": check_budget_delete,
    "shares-list": check_shares_list,
    "share-user-put": check_share_user_put,
    "share-user-delete": check_share_user_delete,
    "share-household-put": check_share_household_put,
    "share-household-delete": check_share_household_delete,
    "category-list": check_category_list,
    "category-create": check_category_create,
    "category-retrieve": check_category_retrieve,
    "category-partial-update": check_category_partial_update,
    "category-delete": check_category_delete,
}


def test_every_route_has_a_success_check():
    assert set(CHECKS) == set(EXPECTED)


# Shares --------------------------------------------------------------------------------


def _share_user_url(budget, user_id):
    return f"{BUDGETS}{budget.pk}/shares/users/{user_id}/"


def _share_household_url(budget, household_id):
    return f"{BUDGETS}{budget.pk}/shares/households/{household_id}/"


def _codenames(model, budget, **grantee):
    return sorted(
        model.objects.filter(content_object=budget, **grantee).values_list("permission__codename", flat=True)
    )


def test_put_user_share_is_201_when_new_and_200_when_the_level_changes(world):
    owner = world.client("owner")
    url = _share_user_url(world.budget, world.newcomer.pk)

    created = owner.put(url, {"permission": "edit"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["permission"] == "edit"
    grantee = {"user": world.newcomer}
    assert _codenames(BudgetUserObjectPermission, world.budget, **grantee) == ["change_budget", "view_budget"]

    changed = owner.put(url, {"permission": "view"}, format="json")
    assert changed.status_code == 200, changed.content
    granted_at = _granted_at(BudgetUserObjectPermission, world.budget, **grantee)
    version = _version(BudgetUserObjectPermission, world.budget, **grantee)
    assert changed.json() == user_share_json(world.newcomer, "view", granted_at=granted_at, version=version)
    assert _codenames(BudgetUserObjectPermission, world.budget, **grantee) == ["view_budget"]

    again = owner.put(url, {"permission": "view"}, format="json")
    assert again.status_code == 200
    assert _codenames(BudgetUserObjectPermission, world.budget, **grantee) == ["view_budget"]
    assert world.client("viewer").get(f"{BUDGETS}{world.budget.pk}/").status_code == 200


def test_put_household_share_is_201_when_new_and_200_when_the_level_changes(world):
    owner = world.client("owner")
    url = _share_household_url(world.budget, world.flat.pk)
    grantee = {"group": world.flat.group}

    changed = owner.put(url, {"permission": "view"}, format="json")
    assert changed.status_code == 200, changed.content
    granted_at = _granted_at(BudgetGroupObjectPermission, world.budget, **grantee)
    version = _version(BudgetGroupObjectPermission, world.budget, **grantee)
    assert changed.json() == household_share_json(world.flat, "view", granted_at=granted_at, version=version)
    assert _codenames(BudgetGroupObjectPermission, world.budget, **grantee) == ["view_budget"]
    household_editor = world.client("household_editor")
    assert household_editor.get(f"{BUDGETS}{world.budget.pk}/").json()["my_permissions"] == VIEWER_RIGHTS
    assert household_editor.patch(f"{BUDGETS}{world.budget.pk}/", {"name": "x"}).status_code == 403

    created = owner.put(_share_household_url(world.budget, world.home.pk), {"permission": "view"})
    assert created.status_code == 201
    member = world.client("member")
    assert member.get(f"{BUDGETS}{world.budget.pk}/").json()["my_permissions"] == VIEWER_RIGHTS


def test_effective_rights_are_the_union_of_user_and_household_shares(world):
    share_household(world.budget, world.home, "edit")
    response = world.client("viewer").get(f"{BUDGETS}{world.budget.pk}/")
    assert response.json()["my_permissions"] == EDITOR_RIGHTS
    patched = world.client("viewer").patch(f"{BUDGETS}{world.budget.pk}/", {"name": "Union"})
    assert patched.status_code == 200
    assert Budget.objects.get(pk=world.budget.pk).name == "Union"


@pytest.mark.parametrize("level", ["", "admin", "change", None])
def test_put_share_with_an_unknown_level_is_400_and_grants_nothing(world, level):
    before = db_state()
    response = world.client("owner").put(
        _share_user_url(world.budget, world.newcomer.pk), {"permission": level}, format="json"
    )
    assert_error(response, 400, attr="permission")
    assert changes(before, db_state()) == {}


def test_delete_of_a_share_that_does_not_exist_is_404_like_a_missing_budget(world):
    owner = world.client("owner")
    missing_budget = owner.delete(f"{BUDGETS}{MISSING}/shares/users/{world.newcomer.pk}/")
    before = db_state()
    for url in (
        _share_user_url(world.budget, world.newcomer.pk),
        _share_user_url(world.budget, MISSING),
        _share_household_url(world.budget, world.home.pk),
        _share_household_url(world.budget, MISSING),
    ):
        response = owner.delete(url)
        assert_error(response, 404, code="not_found", attr=None)
        assert response.content == missing_budget.content
    assert changes(before, db_state()) == {}


def test_user_share_without_a_common_household_is_400_whether_or_not_the_user_exists(world):
    owner = world.client("owner")
    before = db_state()
    answers = [
        owner.put(_share_user_url(world.budget, user_id), {"permission": "view"}, format="json")
        for user_id in (world.users["stranger"].pk, world.users["staff"].pk, MISSING, world.users["owner"].pk)
    ]
    for response in answers:
        assert_error(response, 400, code="no_common_household", attr="user")
    assert len({response.content for response in answers}) == 1
    assert changes(before, db_state()) == {}


OUT_OF_RANGE = 10**30  # fits no database integer column


def test_share_routes_treat_an_out_of_range_id_like_an_unknown_one(world):
    owner = world.client("owner")
    before = db_state()
    for kind in ("users", "households"):
        base = f"{BUDGETS}{world.budget.pk}/shares/{kind}/"
        put_huge = owner.put(f"{base}{OUT_OF_RANGE}/", {"permission": "view"})
        put_unknown = owner.put(f"{base}{MISSING}/", {"permission": "view"})
        assert_error(put_huge, 400)
        assert put_huge.content == put_unknown.content
        delete_huge = owner.delete(f"{base}{OUT_OF_RANGE}/")
        assert_error(delete_huge, 404, code="not_found")
        assert delete_huge.content == owner.delete(f"{base}{MISSING}/").content
    assert changes(before, db_state()) == {}


@pytest.mark.parametrize("pk", [OUT_OF_RANGE, -1, 0, "abc"])
def test_a_malformed_or_out_of_range_id_reads_like_a_missing_one(world, pk):
    owner = world.client("owner")
    for base in (BUDGETS, CATEGORIES):
        response = owner.get(f"{base}{pk}/")
        assert_error(response, 404, code="not_found")
        assert response.content == owner.get(f"{base}{MISSING}/").content


def test_household_share_to_a_household_the_owner_is_not_in_is_400_like_an_unknown_one(world):
    elsewhere = Household.objects.get(name="Elsewhere")
    owner = world.client("owner")
    before = db_state()
    foreign = owner.put(_share_household_url(world.budget, elsewhere.pk), {"permission": "view"})
    unknown = owner.put(_share_household_url(world.budget, MISSING), {"permission": "view"})
    assert_error(foreign, 400, attr="household")
    assert foreign.content == unknown.content
    assert changes(before, db_state()) == {}


def test_shares_list_is_empty_for_an_unshared_budget(world):
    response = world.client("stranger").get(f"{BUDGETS}{world.own['stranger'].pk}/shares/")
    assert response.status_code == 200
    assert response.json() == []


# Budgets: amounts, currencies, periods ----------------------------------------------------


def _create(api, **overrides):
    data = {
        "name": "Budget",
        "amount": "10",
        "currency": "EUR",
        "period": "monthly",
        "start_date": "2026-01-01",
    }
    data.update(overrides)
    return api.post(BUDGETS, {k: v for k, v in data.items() if v is not ...}, format="json")


@pytest.mark.parametrize("sent", [12, 12.3, None, True])
def test_amounts_must_be_decimal_strings_not_json_numbers(api, user, sent):
    body = assert_error(_create(api, amount=sent), 400, attr="amount")
    assert body["type"] == "validation_error"
    assert not Budget.objects.filter(owner=user).exists()


@pytest.mark.parametrize(
    ("currency", "sent", "rendered", "minor"),
    [
        ("EUR", "12.3", "12.30", 1_230),
        ("EUR", "12.30", "12.30", 1_230),
        ("EUR", "12", "12.00", 1_200),
        ("JPY", "1500", "1500", 1_500),
        ("BHD", "1.25", "1.250", 1_250),
        ("BHD", "1.250", "1.250", 1_250),
        ("EUR", "9999999999.99", "9999999999.99", 999_999_999_999),
    ],
)
def test_amounts_are_rendered_with_exactly_the_currencys_minor_units(
    api, user, currency, sent, rendered, minor
):
    response = _create(api, currency=currency, amount=sent)
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == rendered
    budget = Budget.objects.get(owner=user)
    assert (budget.currency, budget.amount_minor) == (currency, minor)
    assert api.get(f"{BUDGETS}{budget.pk}/").json()["amount"] == rendered


@pytest.mark.parametrize(
    ("currency", "amount", "code"),
    [
        ("EUR", "NaN", "invalid"),
        ("EUR", "Infinity", "invalid"),
        ("EUR", "-Infinity", "invalid"),
        ("EUR", "sNaN", "invalid"),
        ("EUR", "-5", "min_value"),
        ("EUR", "0", "min_value"),
        ("EUR", "0.00", "min_value"),
        ("EUR", "12.345", "max_decimal_places"),
        ("JPY", "1.5", "max_decimal_places"),
        ("BHD", "1.2505", "max_decimal_places"),
        ("EUR", "1" * 40, "max_value"),
        ("EUR", "1" * 41, "max_length"),
        ("EUR", "1000000000000000", "max_value"),
        ("EUR", "twelve", "invalid"),
        ("EUR", "12,30", "invalid"),
        ("EUR", "", "blank"),
        ("EUR", None, "null"),
        ("EUR", True, "invalid"),
        ("EUR", ["12"], "invalid"),
    ],
)
def test_bad_amount_is_400_standard_body_and_creates_nothing(api, currency, amount, code):
    response = _create(api, currency=currency, amount=amount)
    assert_error(response, 400, code=code, attr="amount")
    assert not Budget.objects.exists()


@pytest.mark.parametrize("currency", ["eur", "EURO", "XAU", "ZZZ", "", None, 978])
def test_currency_must_be_an_iso_4217_code(api, currency):
    response = _create(api, currency=currency)
    assert_error(response, 400, attr="currency")
    assert not Budget.objects.exists()


def test_changing_currency_keeps_the_amount_and_checks_it_against_the_new_minor_units(api, user):
    budget = BudgetFactory(owner=user, amount_minor=50_000, currency="EUR")  # 500.00
    response = api.patch(f"{BUDGETS}{budget.pk}/", {"currency": "JPY"})
    assert response.status_code == 200, response.content
    assert (response.json()["currency"], response.json()["amount"]) == ("JPY", "500")
    budget.refresh_from_db()
    assert (budget.currency, budget.amount_minor) == ("JPY", 500)

    cents = BudgetFactory(owner=user, amount_minor=1_234, currency="EUR")  # 12.34
    refused = api.patch(f"{BUDGETS}{cents.pk}/", {"currency": "JPY"})
    assert_error(refused, 400, code="max_decimal_places", attr="amount")
    cents.refresh_from_db()
    assert (cents.currency, cents.amount_minor) == ("EUR", 1_234)


def test_currency_is_locked_once_a_category_has_an_allocation(api, user):
    budget = BudgetFactory(owner=user)
    CategoryFactory(budget=budget, allocated_minor=100)
    response = api.patch(f"{BUDGETS}{budget.pk}/", {"currency": "USD"})
    assert_error(response, 400, code="currency_locked", attr="currency")
    assert Budget.objects.get(pk=budget.pk).currency == "EUR"


def test_custom_period_needs_an_end_date_after_the_start(api, user):
    missing = _create(api, period="custom")
    assert_error(missing, 400, code="required", attr="end_date")
    for end_date in ("2026-01-01", "2025-12-31"):
        assert_error(_create(api, period="custom", end_date=end_date), 400, code="invalid", attr="end_date")
    assert not Budget.objects.exists()

    ok = _create(api, period="custom", end_date="2026-01-02")
    assert ok.status_code == 201, ok.content
    assert (ok.json()["period"], ok.json()["end_date"]) == ("custom", "2026-01-02")


@pytest.mark.parametrize("period", ["weekly", "monthly", "yearly"])
def test_non_custom_periods_refuse_an_end_date(api, period):
    response = _create(api, period=period, end_date="2026-06-30")
    assert_error(response, 400, code="invalid", attr="end_date")
    assert not Budget.objects.exists()
    assert _create(api, period=period, end_date=None).json()["end_date"] is None


def test_leaving_the_custom_period_clears_the_end_date(api, user):
    budget = BudgetFactory(owner=user, period="custom", end_date="2026-03-31")
    response = api.patch(f"{BUDGETS}{budget.pk}/", {"period": "monthly"})
    assert response.status_code == 200, response.content
    assert response.json()["end_date"] is None
    budget.refresh_from_db()
    assert (budget.period, budget.end_date) == ("monthly", None)


@pytest.mark.parametrize("period", ["daily", "", None])
def test_period_must_be_one_of_the_four(api, period):
    assert_error(_create(api, period=period), 400, attr="period")
    assert not Budget.objects.exists()


def test_budget_put_needs_every_field_and_changes_nothing_without_them(api, user):
    budget = BudgetFactory(owner=user, name="Kept")
    response = api.put(f"{BUDGETS}{budget.pk}/", {"name": "Only a name"})
    body = assert_error(response, 400)
    assert {e["attr"] for e in body["errors"]} == {"amount", "currency", "period", "start_date"}
    assert Budget.objects.get(pk=budget.pk).name == "Kept"


# Categories ------------------------------------------------------------------------------


def test_category_name_is_unique_per_budget_regardless_of_case(api, user):
    budget = BudgetFactory(owner=user)
    other = BudgetFactory(owner=user)
    CategoryFactory(budget=budget, name="Food")
    clash = api.post(CATEGORIES, {"budget": budget.pk, "name": "fOOD"})
    assert_error(clash, 400, code="unique", attr="name")
    assert list(budget.categories.values_list("name", flat=True)) == ["Food"]
    elsewhere = api.post(CATEGORIES, {"budget": other.pk, "name": "food"})
    assert elsewhere.status_code == 201, elsewhere.content


def test_renaming_a_category_onto_another_name_is_400_but_recasing_itself_is_fine(api, user):
    budget = BudgetFactory(owner=user)
    CategoryFactory(budget=budget, name="Food")
    rent = CategoryFactory(budget=budget, name="Rent")
    assert_error(api.patch(f"{CATEGORIES}{rent.pk}/", {"name": "FOOD"}), 400, code="unique", attr="name")
    assert Category.objects.get(pk=rent.pk).name == "Rent"
    recased = api.patch(f"{CATEGORIES}{rent.pk}/", {"name": "RENT"})
    assert recased.status_code == 200
    assert Category.objects.get(pk=rent.pk).name == "RENT"


@pytest.mark.parametrize(
    ("currency", "allocated", "code"),
    [
        ("EUR", "-1", "min_value"),
        ("EUR", "-0.01", "min_value"),
        ("EUR", "NaN", "invalid"),
        ("EUR", "0.001", "max_decimal_places"),
        ("JPY", "1.5", "max_decimal_places"),
    ],
)
def test_category_allocation_is_refused_when_negative_or_too_precise(api, user, currency, allocated, code):
    budget = BudgetFactory(owner=user, currency=currency)
    response = api.post(CATEGORIES, {"budget": budget.pk, "name": "Food", "allocated": allocated})
    assert_error(response, 400, code=code, attr="allocated")
    assert not Category.objects.exists()


@pytest.mark.parametrize(
    ("currency", "allocated", "rendered", "minor"),
    [
        ("EUR", "0", "0.00", 0),
        ("JPY", "1500", "1500", 1_500),
        ("BHD", "0.5", "0.500", 500),
        ("EUR", None, None, None),
    ],
)
def test_category_allocation_may_be_zero_or_absent(api, user, currency, allocated, rendered, minor):
    budget = BudgetFactory(owner=user, currency=currency)
    response = api.post(
        CATEGORIES, {"budget": budget.pk, "name": "Food", "allocated": allocated}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["allocated"] == rendered
    assert Category.objects.get().allocated_minor == minor


def test_category_cannot_be_moved_to_another_budget(api, user):
    category = CategoryFactory(budget=BudgetFactory(owner=user))
    other = BudgetFactory(owner=user)
    response = api.patch(f"{CATEGORIES}{category.pk}/", {"budget": other.pk, "name": "Moved?"})
    assert response.status_code == 200
    assert response.json()["budget"] == category.budget_id
    assert Category.objects.get(pk=category.pk).budget_id == category.budget_id


def test_category_put_is_405_and_changes_nothing(api, user):
    category = CategoryFactory(budget=BudgetFactory(owner=user), name="Kept")
    response = api.put(f"{CATEGORIES}{category.pk}/", {"name": "Replaced"})
    assert_error(response, 405, code="method_not_allowed")
    assert Category.objects.get(pk=category.pk).name == "Kept"


def test_viewer_posting_a_category_to_a_budget_they_cannot_edit_gets_403(world):
    response = world.client("viewer").post(CATEGORIES, {"budget": world.budget.pk, "name": "Sneaky"})
    assert_error(response, 403, code="permission_denied", attr=None)
    assert list(world.budget.categories.values_list("name", flat=True)) == ["Vegetables"]


def test_category_post_naming_a_foreign_budget_is_400_identical_to_an_unknown_id(world):
    stranger = world.client("stranger")
    foreign = stranger.post(CATEGORIES, {"budget": world.budget.pk, "name": "Sneaky"})
    unknown = stranger.post(CATEGORIES, {"budget": MISSING, "name": "Sneaky"})
    assert_error(foreign, 400, code="does_not_exist", attr="budget")
    assert _without(foreign, world.budget.pk) == _without(unknown, MISSING)
    assert list(world.budget.categories.values_list("name", flat=True)) == ["Vegetables"]


def test_category_filter_by_budget_returns_only_that_budgets_categories(world):
    editor = world.client("editor")
    response = editor.get(CATEGORIES, {"budget": world.budget.pk})
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [world.category.pk]
    assert response.json()["count"] == 1


def test_category_filter_by_a_foreign_budget_is_identical_to_an_unknown_id(world):
    stranger = world.client("stranger")
    foreign = stranger.get(CATEGORIES, {"budget": world.budget.pk})
    unknown = stranger.get(CATEGORIES, {"budget": MISSING})
    assert_error(foreign, 400, code="invalid_choice", attr="budget")
    assert foreign.content == unknown.content


# Budget list: filters, ordering, pagination ------------------------------------------------


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


def test_owned_filter_splits_mine_from_shared_with_me(world):
    editor = world.client("editor")
    assert _names(editor.get(BUDGETS, {"owned": "true"})) == ["editor's own"]
    assert _names(editor.get(BUDGETS, {"owned": "false"})) == ["Groceries"]
    assert editor.get(BUDGETS, {"owned": "false"}).json()["count"] == 1


def test_shared_with_household_filter_returns_budgets_shared_with_that_household(world):
    owner = world.client("owner")
    assert _names(owner.get(BUDGETS, {"shared_with_household": world.flat.pk})) == ["Groceries"]
    assert _names(owner.get(BUDGETS, {"shared_with_household": world.home.pk})) == []
    household_editor = world.client("household_editor")
    assert _names(household_editor.get(BUDGETS, {"shared_with_household": world.flat.pk})) == ["Groceries"]


def test_shared_with_household_filter_with_a_foreign_household_is_identical_to_an_unknown_id(world):
    stranger = world.client("stranger")
    foreign = stranger.get(BUDGETS, {"shared_with_household": world.flat.pk})
    unknown = stranger.get(BUDGETS, {"shared_with_household": MISSING})
    assert_error(foreign, 400, code="invalid_choice", attr="shared_with_household")
    assert foreign.content == unknown.content


def test_search_matches_part_of_the_name_regardless_of_case(api, user):
    for name in ("Groceries", "Big groceries", "Rent"):
        BudgetFactory(owner=user, name=name)
    BudgetFactory(name="Someone else's groceries")
    assert sorted(_names(api.get(BUDGETS, {"search": "GROC"}))) == ["Big groceries", "Groceries"]
    assert api.get(BUDGETS, {"search": "groc"}).json()["count"] == 2


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Apples", "Bread", "Cheese"]),
        ("-name", ["Cheese", "Bread", "Apples"]),
        ("created_at", ["Cheese", "Apples", "Bread"]),
        ("-created_at", ["Bread", "Apples", "Cheese"]),
        ("amount", ["Bread", "Cheese", "Apples"]),
        ("-amount", ["Apples", "Cheese", "Bread"]),
        (None, ["Bread", "Apples", "Cheese"]),
    ],
)
def test_ordering_by_name_created_at_or_amount_either_way(api, user, ordering, expected):
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    for name, amount_minor, day in (("Apples", 300, 2), ("Bread", 100, 3), ("Cheese", 200, 1)):
        budget = BudgetFactory(owner=user, name=name, amount_minor=amount_minor)
        Budget.objects.filter(pk=budget.pk).update(created_at=base + datetime.timedelta(days=day))
    params = {"ordering": ordering} if ordering else {}
    assert _names(api.get(BUDGETS, params)) == expected


def test_unknown_ordering_field_is_400(api):
    assert_error(api.get(BUDGETS, {"ordering": "owner__password"}), 400, attr="ordering")


def _bulk_budgets(owner, n):
    Budget.objects.bulk_create(
        Budget(owner=owner, name=f"B{i:04}", amount_minor=100 + i, currency="EUR", start_date="2026-01-01")
        for i in range(n)
    )


def test_list_pages_50_by_default(api, user):
    _bulk_budgets(user, 51)
    body = api.get(BUDGETS).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"]), body["previous"]) == (51, 50, None)
    assert "limit=50" in body["next"] and "offset=50" in body["next"]
    rest = api.get(BUDGETS, {"offset": 50}).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    seen = {item["id"] for item in body["results"]} | {item["id"] for item in rest["results"]}
    assert seen == set(Budget.objects.filter(owner=user).values_list("pk", flat=True))


def test_a_limit_above_500_is_clamped(api, user):
    _bulk_budgets(user, 501)
    body = api.get(BUDGETS, {"limit": 1000}).json()
    assert (body["count"], len(body["results"])) == (501, 500)
    assert "limit=500" in body["next"] and "offset=500" in body["next"]
