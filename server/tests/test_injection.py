"""Injection and mass assignment, over HTTP, against tenant A's world (server/tests/leak_world.py).

Injection: every related id a client can write (a budget or category on transactions,
single, bulk and import; a budget on categories; a user or household as a share target or
household member) and every id filter, given a row that exists but is not the caller's,
is rejected exactly like an id that never existed: same status, same body once the id is
blanked, nothing written.

Mass assignment: fields a client must not set (owner, created_by, id, timestamps, minor
units, a household's group, a share's source, account flags) are ignored or rejected,
never applied; a transaction cannot be moved, nor a category re-parented, into a budget
the caller may not write.
"""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission, Category
from budgets.tests.factories import BudgetFactory, share_user
from households.models import Household, Invitation, Membership
from server.tests.helpers import assert_error
from server.tests.leak_world import MISSING_ID, MISSING_INVITATION, World, module_world, tenant_state
from transactions.models import Transaction

pytestmark = pytest.mark.django_db

API = "/api/v1"
BLANK = "<id>"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from module_world(django_db_blocker)


def client_as(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def call(user, method: str, url: str, data=None, fmt: str = "json"):
    client = client_as(user)
    if data is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data, format=fmt)


def blanked(response, *ids) -> tuple[int, str]:
    text = response.content.decode()
    for value in ids:
        text = text.replace(str(value), BLANK)
    return response.status_code, text


def today() -> str:
    return timezone.localdate().isoformat()


def tx_body(world: World, **changes) -> dict:
    return {
        "budget": world.shared.pk,
        "category": world.shared_category.pk,
        "kind": "expense",
        "amount": "12.34",
        "date": today(),
        "payee": "Corner shop",
        **changes,
    }


def import_body(world: World, budget) -> dict:
    csv = f"date,amount,kind,category,payee,description,notes\n{today()},5.00,expense,,Imported,,\n"
    return {"budget": budget, "file": SimpleUploadedFile("in.csv", csv.encode(), content_type="text/csv")}


# ---------------------------------------------------------------------------------------
# Related ids in bodies and filters: foreign reads exactly like unknown

# kind -> the rows the editor (edit share on Shared, nothing else) may not see.
FOREIGN = {
    "budget": ("a_private_budget", "b_budget"),
    "category": ("a_private_category", "b_category"),
    "user": ("b_user", "staff_user"),
    "household": ("b_household", "a_annex"),
}


def foreign_id(world: World, name: str) -> int:
    return {
        "a_private_budget": world.private.pk,
        "b_budget": world.their_budget.pk,
        "a_private_category": world.private_category.pk,
        "b_category": world.their_category.pk,
        "b_user": world.users["stranger"].pk,
        "staff_user": world.users["staff"].pk,
        "b_household": world.their_home.pk,
        # A's own household without the editor in it: visible to A, not to the editor.
        "a_annex": world.annex.pk,
    }[name]


def _tx_url(world):
    return f"{API}/transactions/{world.shared_tx.pk}/"


# (case, kind, method, url(world), data(world, id) or None for a GET filter, format, attr)
FIELDS = [
    ("transaction create: budget", "budget", "post", lambda w: f"{API}/transactions/",
     lambda w, i: tx_body(w, budget=i, category=None), "json", "budget"),
    ("transaction create: category", "category", "post", lambda w: f"{API}/transactions/",
     lambda w, i: tx_body(w, category=i), "json", "category"),
    ("transaction put: budget", "budget", "put", _tx_url,
     lambda w, i: tx_body(w, budget=i, category=None), "json", "budget"),
    ("transaction put: category", "category", "put", _tx_url,
     lambda w, i: tx_body(w, category=i), "json", "category"),
    ("transaction patch: budget", "budget", "patch", _tx_url,
     lambda w, i: {"budget": i, "category": None}, "json", "budget"),
    ("transaction patch: category", "category", "patch", _tx_url,
     lambda w, i: {"category": i}, "json", "category"),
    ("bulk: budget", "budget", "post", lambda w: f"{API}/transactions/bulk/",
     lambda w, i: [tx_body(w), tx_body(w, budget=i, category=None)], "json", "1.budget"),
    ("bulk: category", "category", "post", lambda w: f"{API}/transactions/bulk/",
     lambda w, i: [tx_body(w), tx_body(w, category=i)], "json", "1.category"),
    ("import: budget", "budget", "post", lambda w: f"{API}/transactions/import/",
     lambda w, i: import_body(w, i), "multipart", "budget"),
    ("category create: budget", "budget", "post", lambda w: f"{API}/categories/",
     lambda w, i: {"budget": i, "name": "Snacks", "allocated": "5.00"}, "json", "budget"),
    ("filter transactions?budget", "budget", "get", lambda w: f"{API}/transactions/?budget={{id}}",
     None, None, "budget"),
    ("filter transactions?category", "category", "get", lambda w: f"{API}/transactions/?category={{id}}",
     None, None, "category"),
    ("filter transactions?created_by", "user", "get", lambda w: f"{API}/transactions/?created_by={{id}}",
     None, None, "created_by"),
    ("filter export?budget", "budget", "get", lambda w: f"{API}/transactions/export/?budget={{id}}",
     None, None, "budget"),
    ("filter categories?budget", "budget", "get", lambda w: f"{API}/categories/?budget={{id}}",
     None, None, "budget"),
    ("filter budgets?shared_with_household", "household", "get",
     lambda w: f"{API}/budgets/?shared_with_household={{id}}", None, None, "shared_with_household"),
]  # fmt: skip
FIELD_CASES = [
    pytest.param(case, foreign, id=f"{case[0]} <- {foreign}")
    for case in FIELDS
    for foreign in FOREIGN[case[1]]
]


@pytest.mark.parametrize(("case", "foreign"), FIELD_CASES)
def test_foreign_related_id_reads_exactly_like_an_unknown_one(world, case, foreign):
    _name, _kind, method, url, data, fmt, attr = case
    editor = world.users["editor"]
    ref = foreign_id(world, foreign)

    def send(value):
        if data is None:
            return call(editor, method, url(world).format(id=value))
        return call(editor, method, url(world), data(world, value), fmt)

    refused, unknown = send(ref), send(MISSING_ID)
    code = "invalid_choice" if data is None else "does_not_exist"
    assert_error(unknown, 400, code, attr)
    assert blanked(refused, ref) == blanked(unknown, MISSING_ID)
    assert not world.leaks("editor", refused.content, sent=str(ref))
    assert tenant_state() == world.baseline


def test_the_editor_can_use_every_field_with_its_own_rows(world):
    """The can beside the cannots above: the same requests with the editor's own rows
    succeed, so the 400s come from scoping, not from a broken body."""
    editor = world.users["editor"]
    assert call(editor, "post", f"{API}/transactions/", tx_body(world)).status_code == 201
    assert call(editor, "post", f"{API}/transactions/bulk/", [tx_body(world)] * 2).status_code == 201
    assert call(editor, "patch", _tx_url(world), {"category": None}).status_code == 200
    imported = call(
        editor, "post", f"{API}/transactions/import/", import_body(world, world.shared.pk), "multipart"
    )
    assert imported.status_code == 201, imported.content
    category = call(editor, "post", f"{API}/categories/", {"budget": world.shared.pk, "name": "Snacks"})
    assert category.status_code == 201
    filtered = call(editor, "get", f"{API}/transactions/?budget={world.shared.pk}&created_by={editor.pk}")
    assert filtered.status_code == 200
    assert {row["budget"] for row in filtered.json()["results"]} == {world.shared.pk}


def test_viewer_naming_a_budget_they_may_only_view_gets_403_and_nothing_is_written(world):
    """Visible but not writable is a 403, not the unknown id's 400: the viewer knows it exists."""
    viewer = world.users["viewer"]
    for url, data in [
        (f"{API}/transactions/", tx_body(world)),
        (f"{API}/transactions/bulk/", [tx_body(world)]),
        (f"{API}/categories/", {"budget": world.shared.pk, "name": "Snacks"}),
    ]:
        assert_error(call(viewer, "post", url, data), 403, "permission_denied")
    assert_error(
        call(viewer, "post", f"{API}/transactions/import/", import_body(world, world.shared.pk), "multipart"),
        403,
        "permission_denied",
    )
    assert tenant_state() == world.baseline


# ---------------------------------------------------------------------------------------
# Share targets and household members: a foreign user or household reads like an unknown one


def _share_url(world, kind, target):
    return f"{API}/budgets/{world.shared.pk}/shares/{kind}/{target}/"


TARGETS = [
    # (case, method, url(world, target id), body, foreign kind, status, code)
    ("share with user", "put", lambda w, t: _share_url(w, "users", t), {"permission": "view"}, "user", 400,
     "no_common_household"),
    ("unshare user", "delete", lambda w, t: _share_url(w, "users", t), None, "user", 404, "not_found"),
    ("share with household", "put", lambda w, t: _share_url(w, "households", t), {"permission": "view"},
     "household", 400, "not_a_member"),
    ("unshare household", "delete", lambda w, t: _share_url(w, "households", t), None, "household", 404,
     "not_found"),
    ("change member role", "patch", lambda w, t: f"{API}/households/{w.home.pk}/members/{t}/",
     {"role": "admin"}, "user", 404, "not_found"),
    ("remove member", "delete", lambda w, t: f"{API}/households/{w.home.pk}/members/{t}/", None, "user", 404,
     "not_found"),
]  # fmt: skip
FOREIGN_TARGETS = {"user": ("b_user", "staff_user"), "household": ("b_household",)}
TARGET_CASES = [
    pytest.param(case, foreign, id=f"{case[0]} <- {foreign}")
    for case in TARGETS
    for foreign in FOREIGN_TARGETS[case[4]]
]


@pytest.mark.parametrize(("case", "foreign"), TARGET_CASES)
def test_owner_naming_a_foreign_share_target_or_member_gets_the_unknown_ids_answer(world, case, foreign):
    _name, method, url, body, _kind, status, code = case
    owner = world.users["owner"]
    ref = foreign_id(world, foreign)
    refused = call(owner, method, url(world, ref), body)
    unknown = call(owner, method, url(world, MISSING_ID), body)
    assert_error(unknown, status, code)
    assert blanked(refused, ref) == blanked(unknown, MISSING_ID)
    assert not world.leaks("owner", refused.content)
    assert tenant_state() == world.baseline


# ---------------------------------------------------------------------------------------
# Admin grants (staff holding budgets.manage_grants)


def _granter() -> User:
    user = User.objects.create_user("granter.qz0@example.com", "a-long-granter-pass-1", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="budgets", codename="manage_grants")
    )
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("field", ["budget", "user", "household"])
def test_granter_naming_an_unknown_id_gets_does_not_exist_and_nothing_is_written(world, field):
    granter = _granter()
    before = tenant_state()
    body = {
        "budget": world.shared.pk,
        "user": world.users["member"].pk,
        "permission": "view",
        field: MISSING_ID,
    }
    if field == "household":
        del body["user"]
    assert_error(call(granter, "post", f"{API}/admin/grants/", body), 400, "does_not_exist", field)
    assert tenant_state() == before


@pytest.mark.parametrize("actor", ["staff", "owner", "stranger"])
def test_grants_without_the_permission_answer_the_same_for_real_and_unknown_ids(world, actor):
    """No oracle for callers without budgets.manage_grants: real rows and unknown ids get
    the same 403, and nothing is written."""
    user = world.users[actor]
    real = {"budget": world.private.pk, "user": world.users["stranger"].pk, "permission": "edit"}
    unknown = {"budget": MISSING_ID, "user": MISSING_ID, "permission": "edit"}
    first = call(user, "post", f"{API}/admin/grants/", real)
    second = call(user, "post", f"{API}/admin/grants/", unknown)
    assert_error(first, 403, "permission_denied")
    assert first.content == second.content
    assert tenant_state() == world.baseline


def test_granter_cannot_set_who_granted_or_the_source(world):
    granter = _granter()
    body = {
        "budget": world.private.pk,
        "user": world.users["stranger"].pk,
        "permission": "view",
        "granted_by": world.users["owner"].pk,
        "granted_by_user": world.users["owner"].pk,
        "source": "owner",
        "id": "u1",
    }
    response = call(granter, "post", f"{API}/admin/grants/", body)
    assert response.status_code == 201, response.content
    rows = BudgetUserObjectPermission.objects.filter(
        content_object=world.private, user=world.users["stranger"]
    )
    assert list(rows.values_list("source", "granted_by_id")) == [("admin", granter.pk)]
    assert response.json()["granted_by"] == "admin"
    assert response.json()["id"] != "u1"


# ---------------------------------------------------------------------------------------
# Mass assignment

FORGED_TIMESTAMPS = {"created_at": "2001-02-03T04:05:06Z", "updated_at": "2001-02-03T04:05:06Z"}


def _row(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


@pytest.mark.parametrize("actor", ["owner", "editor"])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_budget_update_ignores_owner_id_timestamps_and_minor_units(world, actor, method):
    before = _row(Budget, world.shared.pk)
    body = {
        "name": "Renamed",
        "amount": "99.00",
        "currency": "EUR",
        "period": "monthly",
        "start_date": "2026-01-01",
        "owner": world.users["stranger"].pk,
        "id": world.their_budget.pk,
        "amount_minor": 1,
        "my_permissions": ["view", "change", "delete", "share"],
        **FORGED_TIMESTAMPS,
    }
    response = call(world.users[actor], method, f"{API}/budgets/{world.shared.pk}/", body)
    assert response.status_code == 200, response.content
    after = _row(Budget, world.shared.pk)
    assert after["owner_id"] == before["owner_id"] == world.users["owner"].pk
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] > before["updated_at"]
    assert (after["name"], after["amount_minor"]) == ("Renamed", 9_900)
    assert _row(Budget, world.their_budget.pk)["name"] == world.their_budget.name
    assert response.json()["my_permissions"] == (
        ["view", "change", "delete", "share"] if actor == "owner" else ["view", "change"]
    )


def test_budget_create_ignores_owner_and_id(world):
    stranger = world.users["stranger"]
    body = {
        "name": "Mine",
        "amount": "10.00",
        "currency": "EUR",
        "period": "monthly",
        "start_date": "2026-01-01",
        "owner": world.users["owner"].pk,
        "id": world.shared.pk,
        "amount_minor": 1,
        **FORGED_TIMESTAMPS,
    }
    shared_before = _row(Budget, world.shared.pk)
    response = call(stranger, "post", f"{API}/budgets/", body)
    assert response.status_code == 201, response.content
    created = _row(Budget, response.json()["id"])
    assert created["id"] != world.shared.pk
    assert (created["owner_id"], created["amount_minor"]) == (stranger.pk, 1_000)
    assert created["created_at"].year == timezone.now().year
    assert _row(Budget, world.shared.pk) == shared_before


def test_transaction_update_ignores_created_by_id_timestamps_and_minor_units(world):
    editor = world.users["editor"]
    before = _row(Transaction, world.shared_tx.pk)
    body = {
        "payee": "Changed",
        "created_by": editor.pk,
        "id": world.their_tx.pk,
        "amount_minor": 1,
        **FORGED_TIMESTAMPS,
    }
    response = call(editor, "patch", _tx_url(world), body)
    assert response.status_code == 200, response.content
    after = _row(Transaction, world.shared_tx.pk)
    assert after["payee"] == "Changed"
    assert after["created_by_id"] == before["created_by_id"] == world.users["owner"].pk
    assert (after["amount_minor"], after["created_at"]) == (before["amount_minor"], before["created_at"])
    assert _row(Transaction, world.their_tx.pk)["payee"] == world.their_tx.payee


@pytest.mark.parametrize("route", ["transactions/", "transactions/bulk/"])
def test_transaction_create_ignores_created_by_id_and_minor_units(world, route):
    editor = world.users["editor"]
    item = tx_body(
        world, created_by=world.users["owner"].pk, id=world.shared_tx.pk, amount_minor=1, **FORGED_TIMESTAMPS
    )
    response = call(editor, "post", f"{API}/{route}", [item] if route.endswith("bulk/") else item)
    assert response.status_code == 201, response.content
    created = response.json()[0] if route.endswith("bulk/") else response.json()
    row = _row(Transaction, created["id"])
    assert row["id"] != world.shared_tx.pk
    assert (row["created_by_id"], row["amount_minor"], row["budget_id"]) == (
        editor.pk,
        1_234,
        world.shared.pk,
    )
    assert row["created_at"].year == timezone.now().year
    assert _row(Transaction, world.shared_tx.pk)["payee"] == world.shared_tx.payee


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("target", ["a_private_budget", "b_budget"])
def test_transaction_cannot_move_to_a_foreign_budget(world, method, target):
    """The budget a transaction moves to is scoped like any other: a foreign budget is the
    unknown id's 400 does_not_exist, and the row stays where it was."""
    editor = world.users["editor"]
    ref = foreign_id(world, target)
    body = tx_body(world, budget=ref, category=None) if method == "put" else {"budget": ref, "category": None}
    moved = call(editor, method, _tx_url(world), body)
    unknown_body = {**body, "budget": MISSING_ID}
    unknown = call(editor, method, _tx_url(world), unknown_body)
    assert_error(unknown, 400, "does_not_exist", "budget")
    assert blanked(moved, ref) == blanked(unknown, MISSING_ID)
    assert tenant_state() == world.baseline


def test_transaction_cannot_move_to_a_budget_the_caller_may_only_view(world):
    editor = world.users["editor"]
    view_only = BudgetFactory(owner=world.users["owner"], name="View only")
    share_user(view_only, editor, "view")
    before = tenant_state()
    response = call(editor, "patch", _tx_url(world), {"budget": view_only.pk, "category": None})
    assert_error(response, 403, "permission_denied")
    assert tenant_state() == before


def test_transaction_move_keeps_category_and_budget_together(world):
    """Moving to a budget the editor may write, with the old budget's category, is refused."""
    editor = world.users["editor"]
    own = BudgetFactory(owner=editor, name="Editor's own")
    before = tenant_state()
    response = call(editor, "patch", _tx_url(world), {"budget": own.pk})
    assert_error(response, 400, "category_budget_mismatch", "category")
    assert tenant_state() == before
    moved = call(editor, "patch", _tx_url(world), {"budget": own.pk, "category": None})
    assert moved.status_code == 200, moved.content
    assert _row(Transaction, world.shared_tx.pk)["budget_id"] == own.pk


@pytest.mark.parametrize("target", ["editors_own", "a_private_budget", "b_budget"])
def test_category_budget_cannot_be_changed(world, target):
    editor = world.users["editor"]
    new_budget = BudgetFactory(owner=editor).pk if target == "editors_own" else foreign_id(world, target)
    body = {
        "name": "Renamed",
        "budget": new_budget,
        "id": world.their_category.pk,
        "allocated_minor": 1,
        **FORGED_TIMESTAMPS,
    }
    response = call(editor, "patch", f"{API}/categories/{world.shared_category.pk}/", body)
    assert response.status_code == 200, response.content
    row = _row(Category, world.shared_category.pk)
    assert (row["budget_id"], row["name"]) == (world.shared.pk, "Renamed")
    assert row["allocated_minor"] == world.shared_category.allocated_minor
    assert row["created_at"] == world.shared_category.created_at
    assert response.json()["budget"] == world.shared.pk
    assert not Category.objects.filter(budget_id=new_budget, name="Renamed").exists()
    assert _row(Category, world.their_category.pk)["name"] == world.their_category.name


def test_category_create_ignores_id_and_minor_units(world):
    editor = world.users["editor"]
    body = {
        "budget": world.shared.pk,
        "name": "Fresh",
        "allocated": "3.00",
        "allocated_minor": 1,
        "id": world.private_category.pk,
        **FORGED_TIMESTAMPS,
    }
    response = call(editor, "post", f"{API}/categories/", body)
    assert response.status_code == 201, response.content
    row = _row(Category, response.json()["id"])
    assert row["id"] != world.private_category.pk
    assert (row["budget_id"], row["allocated_minor"]) == (world.shared.pk, 300)
    assert _row(Category, world.private_category.pk)["name"] == world.private_category.name


def test_household_group_id_and_timestamps_cannot_be_set(world):
    owner = world.users["owner"]
    before = _row(Household, world.home.pk)
    body = {
        "name": "Renamed home",
        "group": world.their_home.group_id,
        "id": world.their_home.pk,
        **FORGED_TIMESTAMPS,
    }
    response = call(owner, "patch", f"{API}/households/{world.home.pk}/", body)
    assert response.status_code == 200, response.content
    after = _row(Household, world.home.pk)
    assert (after["group_id"], after["created_at"]) == (before["group_id"], before["created_at"])
    assert after["name"] == "Renamed home"
    assert _row(Household, world.their_home.pk)["name"] == world.their_home.name


def test_household_create_cannot_adopt_another_households_group(world):
    """A new household gets a group of its own: naming Home's group must not put the
    stranger in it (and so into every budget shared with Home)."""
    stranger = world.users["stranger"]
    home_group = world.home.group_id
    members_before = set(Group.objects.get(pk=home_group).user_set.values_list("pk", flat=True))
    response = call(
        stranger, "post", f"{API}/households/", {"name": "Mine", "group": home_group, "id": world.home.pk}
    )
    assert response.status_code == 201, response.content
    created = _row(Household, response.json()["id"])
    assert created["id"] != world.home.pk
    assert created["group_id"] != home_group
    assert set(Group.objects.get(pk=home_group).user_set.values_list("pk", flat=True)) == members_before
    assert not Membership.objects.filter(household=world.home, user=stranger).exists()


def test_invitation_create_ignores_household_status_inviter_and_expiry(world):
    owner = world.users["owner"]
    body = {
        "email": "someone-new@example.com",
        "role": "member",
        "household": world.their_home.pk,
        "status": "accepted",
        "invited_by": world.users["stranger"].pk,
        "expires_at": "2999-01-01T00:00:00Z",
        "id": str(world.invitation.pk),
    }
    response = call(owner, "post", f"{API}/households/{world.home.pk}/invitations/", body)
    assert response.status_code == 201, response.content
    created = Invitation.objects.get(email="someone-new@example.com")
    assert (created.household_id, created.status, created.invited_by_id) == (
        world.home.pk,
        "pending",
        owner.pk,
    )
    assert created.expires_at.year < 2999
    assert created.pk != world.invitation.pk
    assert not Invitation.objects.filter(household=world.their_home).exists()


def test_invitation_role_cannot_be_owner(world):
    owner = world.users["owner"]
    response = call(
        owner,
        "post",
        f"{API}/households/{world.home.pk}/invitations/",
        {"email": "x@example.com", "role": "owner"},
    )
    assert_error(response, 400, "invalid_choice", "role")
    assert tenant_state() == world.baseline


def test_member_role_change_applies_to_the_member_in_the_path_only(world):
    owner, member = world.users["owner"], world.users["member"]
    body = {"role": "admin", "user": world.users["stranger"].pk, "household": world.their_home.pk}
    response = call(owner, "patch", f"{API}/households/{world.home.pk}/members/{member.pk}/", body)
    assert response.status_code == 200, response.content
    assert Membership.objects.get(household=world.home, user=member).role == "admin"
    assert not Membership.objects.filter(user=world.users["stranger"], household=world.home).exists()
    assert Membership.objects.get(household=world.their_home, user=world.users["stranger"]).role == "owner"


def test_share_source_and_granter_cannot_be_set(world):
    owner, member = world.users["owner"], world.users["member"]
    body = {
        "permission": "view",
        "source": "admin",
        "granted_by": world.users["staff"].pk,
        "user": world.users["stranger"].pk,
    }
    response = call(owner, "put", _share_url(world, "users", member.pk), body)
    assert response.status_code == 201, response.content
    rows = BudgetUserObjectPermission.objects.filter(content_object=world.shared, user=member)
    assert list(rows.values_list("source", "granted_by_id")) == [("owner", owner.pk)]
    assert not BudgetUserObjectPermission.objects.filter(user=world.users["stranger"]).exists()
    household = call(
        owner,
        "put",
        _share_url(world, "households", world.home.pk),
        {**body, "group": world.their_home.group_id},
    )
    assert household.status_code == 201, household.content
    group_rows = BudgetGroupObjectPermission.objects.filter(
        content_object=world.shared, group_id=world.home.group_id
    )
    assert set(group_rows.values_list("source", "granted_by_id")) == {("owner", owner.pk)}
    assert not BudgetGroupObjectPermission.objects.filter(group_id=world.their_home.group_id).exists()


def test_me_update_ignores_account_flags_id_and_password(world):
    member = world.users["member"]
    before = _row(User, member.pk)
    body = {
        "first_name": "Renamed",
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "id": world.users["owner"].pk,
        "date_joined": "2001-02-03T04:05:06Z",
        "password": "pwned-pass-123456",
        "groups": [world.their_home.group_id],
        "user_permissions": [Permission.objects.get(codename="manage_grants").pk],
    }
    response = call(member, "patch", f"{API}/auth/me/", body)
    assert response.status_code == 200, response.content
    after = _row(User, member.pk)
    assert after["first_name"] == "Renamed"
    assert {k: v for k, v in after.items() if k != "first_name"} == {
        k: v for k, v in before.items() if k != "first_name"
    }
    assert not User.groups.through.objects.filter(user=member, group_id=world.their_home.group_id).exists()
    assert not member.user_permissions.exists()
    assert _row(User, world.users["owner"].pk)["first_name"] == world.users["owner"].first_name


def test_register_ignores_account_flags(world):
    body = {
        "email": "fresh.qz0@example.com",
        "password": "a-long-fresh-pass-42",
        "is_staff": True,
        "is_superuser": True,
        "id": world.users["owner"].pk,
        "groups": [world.home.group_id],
    }
    response = APIClient().post(f"{API}/auth/register/", body, format="json")
    assert response.status_code == 201, response.content
    created = User.objects.get(email="fresh.qz0@example.com")
    assert (created.is_staff, created.is_superuser, created.is_active) == (False, False, True)
    assert created.pk != world.users["owner"].pk
    assert not created.groups.exists()
    assert User.objects.get(pk=world.users["owner"].pk).email == world.users["owner"].email


def test_nothing_here_leaks_json_bodies_either(world):
    """A sanity check of the marker helper itself: the editor's list holds Shared's
    markers (entitled) and none of Private's."""
    body = call(world.users["editor"], "get", f"{API}/transactions/").content
    assert world.shared_tx.payee.encode() in body
    assert not world.leaks("editor", body)
    assert world.leaks("editor", json.dumps({"x": world.private_tx.payee}).encode())


def test_revoking_another_households_invitation_reads_like_an_unknown_one(world):
    owner = world.users["owner"]
    theirs = Invitation.objects.create(
        household=world.their_home,
        email="their-invitee@example.com",
        invited_by=world.users["stranger"],
        expires_at=timezone.now() + timedelta(days=7),
    )
    before = tenant_state()
    url = f"{API}/households/{world.home.pk}/invitations/{{}}/"
    refused = call(owner, "delete", url.format(theirs.pk))
    unknown = call(owner, "delete", url.format(MISSING_INVITATION))
    assert_error(unknown, 404, "not_found")
    assert blanked(refused, theirs.pk) == blanked(unknown, MISSING_INVITATION)
    assert tenant_state() == before
