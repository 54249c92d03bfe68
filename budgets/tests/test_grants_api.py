"""The staff grants API, /api/v1/admin/grants/: who may call it, what it lists, what its
writes leave in the database, and what a grant gives its grantee through the ordinary
budgets/ and transactions/ routes."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from rest_framework import serializers

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission
from budgets.shares import share_keys as grant_keys
from budgets.shares import shares_for as grants_for
from budgets.tests.factories import BudgetFactory, share_household, share_user
from households.models import Household
from households.tests.factories import make_household
from server.tests.helpers import assert_error
from server.tests.world import ANONYMOUS, OWNER, STAFF, STRANGER, VIEWER, make_user
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

GRANTS = "/api/v1/admin/grants/"
MISSING = 987_654_321
# The shared vocabulary (server/tests/world.py), and the grants API's own actor: granter.
ACTORS = (ANONYMOUS, STRANGER, OWNER, STAFF, "granter")
REFUSED = {ANONYMOUS: 401, STRANGER: 403, OWNER: 403, STAFF: 403}


def ts(value) -> str:
    return serializers.DateTimeField().to_representation(value)


def manage_grants_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="budgets", codename="manage_grants")


def make_staff(email: str, *codenames: str) -> User:
    user = UserFactory(email=email, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="budgets", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


@dataclass
class World:
    """Its own world, in the shared names (server/tests/world.py): ``owner``'s budget
    Groceries (EUR 123.45, one transaction) is shared by the owner with ``viewer`` (their
    household Home) to view, and with nobody else. ``stranger`` owns household Elsewhere
    (with ``housemate``), which the owner is not in, and the budget Rent
    (``foreign_budget``). ``outsider`` is in no household: the grantee of admin grants.
    ``granter`` is staff holding budgets.manage_grants; ``staff`` is staff without it."""

    owner: User
    viewer: User
    stranger: User
    housemate: User
    outsider: User
    granter: User
    staff: User
    home: Household
    elsewhere: Household
    budget: Budget
    foreign_budget: Budget


@pytest.fixture
def w(db) -> World:
    owner = make_user(OWNER)
    viewer = make_user(VIEWER)
    home = make_household(owner, name="Home", members=[viewer])
    stranger = make_user(STRANGER)
    housemate = UserFactory(email="housemate@example.com")
    elsewhere = make_household(stranger, name="Elsewhere", members=[housemate])
    budget = BudgetFactory(owner=owner, name="Groceries", amount_minor=12_345)
    TransactionFactory(budget=budget, amount_minor=1_230, payee="Market")
    share_user(budget, viewer, "view")
    return World(
        owner=owner,
        viewer=viewer,
        stranger=stranger,
        housemate=housemate,
        outsider=UserFactory(email="outsider@example.com"),
        granter=make_staff("granter@example.com", "manage_grants"),
        staff=make_staff("staff@example.com"),
        home=home,
        elsewhere=elsewhere,
        budget=budget,
        foreign_budget=BudgetFactory(owner=stranger, name="Rent", amount_minor=90_000),
    )


@pytest.fixture
def as_(w, client_for, anon):
    def make(actor: str):
        return anon if actor == ANONYMOUS else client_for(getattr(w, actor))

    return make


def rows() -> list[tuple]:
    """Every guardian row on a budget, comparable across a request."""
    users = [
        ("user", r.content_object_id, r.user_id, r.permission.codename, r.source, r.granted_by_id)
        for r in BudgetUserObjectPermission.objects.select_related("permission")
    ]
    groups = [
        ("group", r.content_object_id, r.group_id, r.permission.codename, r.source, r.granted_by_id)
        for r in BudgetGroupObjectPermission.objects.select_related("permission")
    ]
    return sorted(users + groups)


def user_rows(budget, user):
    return BudgetUserObjectPermission.objects.filter(content_object=budget, user=user).order_by("pk")


def group_rows(budget, household):
    return BudgetGroupObjectPermission.objects.filter(
        content_object=budget, group_id=household.group_id
    ).order_by("pk")


def user_grant(budget, user, permission, source, by) -> dict:
    found = list(user_rows(budget, user))
    return {
        "id": f"u{found[0].pk}",
        "budget": {"id": budget.pk, "name": budget.name},
        "grantee_type": "user",
        "grantee": {"id": user.pk, "email": user.email},
        "permission": permission,
        "granted_by": source,
        "granted_by_user": {"id": by.pk, "email": by.email},
        "granted_at": ts(max(r.granted_at for r in found)),
    }


def household_grant(budget, household, permission, source, by) -> dict:
    found = list(group_rows(budget, household))
    return {
        "id": f"g{found[0].pk}",
        "budget": {"id": budget.pk, "name": budget.name},
        "grantee_type": "household",
        "grantee": {"id": household.pk, "name": household.name},
        "permission": permission,
        "granted_by": source,
        "granted_by_user": {"id": by.pk, "email": by.email},
        "granted_at": ts(max(r.granted_at for r in found)),
    }


def admin_grant(w, *, budget=None, user=None, household=None, level="view"):
    client_body = {"budget": (budget or w.budget).pk, "permission": level}
    if user is not None:
        client_body["user"] = user.pk
    if household is not None:
        client_body["household"] = household.pk
    return client_body


# --- who may call it (OWASP API5: function-level authorisation) ----------------------


def _route(w, route: str):
    grant = user_rows(w.budget, w.viewer).first()
    return {
        "list": ("get", GRANTS, None),
        "create": ("post", GRANTS, {"budget": w.budget.pk, "user": w.outsider.pk, "permission": "view"}),
        "delete": ("delete", f"{GRANTS}u{grant.pk}/", None),
        "delete-missing": ("delete", f"{GRANTS}u{MISSING}/", None),
    }[route]


@pytest.mark.parametrize("route", ["list", "create", "delete", "delete-missing"])
@pytest.mark.parametrize("actor", list(REFUSED))
def test_only_staff_holding_manage_grants_reach_the_grants_api(w, as_, actor, route):
    method, url, body = _route(w, route)
    before = rows()
    response = getattr(as_(actor), method)(url, body, format="json")
    if REFUSED[actor] == 401:
        assert_error(response, 401, "not_authenticated", attr=None)
    else:
        body = assert_error(response, 403, "permission_denied", attr=None)
        assert "manage_grants" in body["errors"][0]["detail"]
    assert rows() == before


def test_refusals_do_not_depend_on_whether_the_grant_exists(w, as_):
    for actor in REFUSED:
        existing = as_(actor).delete(_route(w, "delete")[1])
        missing = as_(actor).delete(_route(w, "delete-missing")[1])
        assert existing.status_code == missing.status_code == REFUSED[actor]
        assert existing.content == missing.content


@pytest.mark.parametrize("route", ["list", "create", "delete"])
def test_staff_with_manage_grants_reach_every_route(w, as_, route):
    method, url, body = _route(w, route)
    response = getattr(as_("granter"), method)(url, body, format="json")
    assert response.status_code == {"list": 200, "create": 201, "delete": 204}[route], response.content
    if route == "list":
        assert [g["grantee"] for g in response.json()["results"]] == [
            {"id": w.viewer.pk, "email": w.viewer.email}
        ]
    elif route == "create":
        assert response.json() == user_grant(w.budget, w.outsider, "view", "admin", w.granter)
    else:
        assert response.content == b""
        assert not user_rows(w.budget, w.viewer).exists()


def test_model_permissions_on_budgets_do_not_stand_in_for_manage_grants(w, client_for):
    every_other = make_staff(
        "budget-admin@example.com", "view_budget", "change_budget", "delete_budget", "add_budget"
    )
    assert every_other.has_perm("budgets.change_budget")
    response = client_for(every_other).get(GRANTS)
    assert_error(response, 403, "permission_denied", attr=None)


def test_manage_grants_without_staff_status_is_refused(w, client_for):
    holder = UserFactory(email="not-staff@example.com")
    holder.user_permissions.add(manage_grants_permission())
    assert User.objects.get(pk=holder.pk).has_perm("budgets.manage_grants")
    before = rows()
    response = client_for(holder).post(GRANTS, admin_grant(w, user=w.outsider), format="json")
    assert_error(response, 403, "permission_denied", attr=None)
    assert rows() == before


def test_a_superuser_may_manage_grants(w, client_for):
    root = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    response = client_for(root).get(GRANTS)
    assert response.status_code == 200
    assert response.json()["count"] == 1


# --- GET: every explicit grant --------------------------------------------------------


def test_list_shows_owner_shares_and_admin_grants_one_item_per_grantee(w, as_):
    share_user(w.budget, w.viewer, "edit")  # two guardian rows, one grant
    share_household(w.budget, w.home, "view")
    as_("granter").post(GRANTS, admin_grant(w, user=w.outsider, level="edit"), format="json")
    as_("granter").post(GRANTS, admin_grant(w, budget=w.foreign_budget, household=w.home), format="json")
    assert user_rows(w.budget, w.viewer).count() == 2

    response = as_("granter").get(GRANTS)

    assert response.status_code == 200
    assert response.json() == {
        "count": 4,
        "next": None,
        "previous": None,
        # Ordered by budget, then a budget's user grants before its household grants.
        "results": [
            user_grant(w.budget, w.viewer, "edit", "owner", w.owner),
            user_grant(w.budget, w.outsider, "edit", "admin", w.granter),
            household_grant(w.budget, w.home, "view", "owner", w.owner),
            household_grant(w.foreign_budget, w.home, "view", "admin", w.granter),
        ],
    }


def test_a_grant_id_is_its_view_rows_id(w, as_):
    as_("granter").post(GRANTS, admin_grant(w, user=w.outsider, level="edit"), format="json")
    view_row = user_rows(w.budget, w.outsider).get(permission__codename="view_budget")
    ids = [g["id"] for g in as_("granter").get(GRANTS, {"user": w.outsider.pk}).json()["results"]]
    assert ids == [f"u{view_row.pk}"]


def test_granted_by_user_is_null_once_that_person_is_gone(w, as_, client_for):
    as_("granter").post(GRANTS, admin_grant(w, user=w.outsider), format="json")
    w.granter.delete()
    reader = client_for(make_staff("reader@example.com", "manage_grants"))

    (grant,) = reader.get(GRANTS, {"user": w.outsider.pk}).json()["results"]

    assert grant["granted_by"] == "admin"
    assert grant["granted_by_user"] is None
    assert user_rows(w.budget, w.outsider).get().granted_by_id is None


def test_list_leaves_out_rows_on_groups_that_are_not_households(w, as_):
    stray = Group.objects.create(name="not-a-household")
    BudgetGroupObjectPermission.objects.create(
        content_object=w.budget,
        group=stray,
        permission=Permission.objects.get(codename="view_budget"),
    )
    response = as_("granter").get(GRANTS)
    assert [g["grantee_type"] for g in response.json()["results"]] == ["user"]


@pytest.fixture
def spread(w, as_):
    """Grants on two budgets to users and households."""
    granter = as_("granter")
    granter.post(GRANTS, admin_grant(w, user=w.outsider), format="json")
    granter.post(GRANTS, admin_grant(w, household=w.elsewhere, level="edit"), format="json")
    granter.post(
        GRANTS, admin_grant(w, budget=w.foreign_budget, user=w.outsider, level="edit"), format="json"
    )
    granter.post(GRANTS, admin_grant(w, budget=w.foreign_budget, household=w.home), format="json")
    return granter


def _pairs(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    return [(g["budget"]["id"], g["grantee_type"], g["grantee"]["id"]) for g in response.json()["results"]]


def test_list_filters_by_budget(w, spread):
    assert _pairs(spread.get(GRANTS, {"budget": w.foreign_budget.pk})) == [
        (w.foreign_budget.pk, "user", w.outsider.pk),
        (w.foreign_budget.pk, "household", w.home.pk),
    ]


def test_list_filters_by_user_grantee(w, spread):
    assert _pairs(spread.get(GRANTS, {"user": w.outsider.pk})) == [
        (w.budget.pk, "user", w.outsider.pk),
        (w.foreign_budget.pk, "user", w.outsider.pk),
    ]
    # A household grant reaches its members, but it is a grant to the household.
    assert _pairs(spread.get(GRANTS, {"user": w.housemate.pk})) == []


def test_list_filters_by_household_grantee(w, spread):
    assert _pairs(spread.get(GRANTS, {"household": w.elsewhere.pk})) == [
        (w.budget.pk, "household", w.elsewhere.pk)
    ]


def test_list_filters_narrow_together(w, spread):
    assert _pairs(spread.get(GRANTS, {"budget": w.budget.pk, "user": w.outsider.pk})) == [
        (w.budget.pk, "user", w.outsider.pk)
    ]
    assert _pairs(spread.get(GRANTS, {"user": w.outsider.pk, "household": w.elsewhere.pk})) == []
    response = spread.get(GRANTS, {"budget": w.foreign_budget.pk, "household": w.elsewhere.pk})
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("name", ["budget", "user", "household"])
@pytest.mark.parametrize("value", ["abc", str(MISSING), "-1", "1.5", str(10**20)])
def test_bad_filter_values_are_a_400(w, spread, name, value):
    response = spread.get(GRANTS, {name: value})
    assert_error(response, 400, "invalid_choice", attr=name)


def test_list_is_paginated_with_limit_and_offset(w, spread):
    everything = _pairs(spread.get(GRANTS))
    assert len(everything) == 5
    response = spread.get(GRANTS, {"limit": 2, "offset": 2})
    body = response.json()
    assert body["count"] == 5
    assert body["next"].endswith("/api/v1/admin/grants/?limit=2&offset=4")
    assert body["previous"].endswith("/api/v1/admin/grants/?limit=2")
    assert _pairs(response) == everything[2:4]
    assert _pairs(spread.get(GRANTS, {"limit": 2, "offset": 4})) == everything[4:]


def test_list_takes_a_fixed_number_of_queries(w, as_, django_assert_max_num_queries):
    granter = as_("granter")
    granter.get(GRANTS)  # warms the permission-id cache
    # The caller, their permissions (2), the count, the page, then the rows behind it:
    # user grants and household grants, one query each.
    with django_assert_max_num_queries(7):
        one = granter.get(GRANTS, {"limit": 50})
    assert one.json()["count"] == 1
    for n in range(30):
        budget = BudgetFactory(owner=w.stranger, name=f"B{n}")
        granter.post(GRANTS, admin_grant(w, budget=budget, user=w.outsider, level="edit"), format="json")
        granter.post(GRANTS, admin_grant(w, budget=budget, household=w.home), format="json")
    with django_assert_max_num_queries(7):
        full = granter.get(GRANTS, {"limit": 50})
    assert full.json()["count"] == 61
    assert len(full.json()["results"]) == 50


# --- POST: an admin grant -------------------------------------------------------------


def test_admin_grants_view_to_a_user_with_no_household_in_common(w, as_):
    response = as_("granter").post(GRANTS, admin_grant(w, user=w.outsider), format="json")

    assert response.status_code == 201, response.content
    assert response.json() == user_grant(w.budget, w.outsider, "view", "admin", w.granter)
    assert [(r.permission.codename, r.source, r.granted_by_id) for r in user_rows(w.budget, w.outsider)] == [
        ("view_budget", "admin", w.granter.pk)
    ]


def test_admin_grants_edit_as_view_and_change(w, as_):
    response = as_("granter").post(GRANTS, admin_grant(w, user=w.outsider, level="edit"), format="json")

    assert response.status_code == 201
    assert response.json() == user_grant(w.budget, w.outsider, "edit", "admin", w.granter)
    assert sorted(r.permission.codename for r in user_rows(w.budget, w.outsider)) == [
        "change_budget",
        "view_budget",
    ]


def test_admin_grant_replaces_an_owner_share_of_the_same_grantee(w, as_):
    share_user(w.budget, w.viewer, "edit")
    response = as_("granter").post(GRANTS, admin_grant(w, user=w.viewer, level="view"), format="json")

    assert response.status_code == 201
    assert response.json() == user_grant(w.budget, w.viewer, "view", "admin", w.granter)
    assert [(r.permission.codename, r.source, r.granted_by_id) for r in user_rows(w.budget, w.viewer)] == [
        ("view_budget", "admin", w.granter.pk)
    ]


def test_admin_grants_to_a_household_the_owner_is_not_in(w, as_, client_for):
    response = as_("granter").post(GRANTS, admin_grant(w, household=w.elsewhere, level="edit"), format="json")

    assert response.status_code == 201
    assert response.json() == household_grant(w.budget, w.elsewhere, "edit", "admin", w.granter)
    assert sorted(
        (r.permission.codename, r.source, r.granted_by_id) for r in group_rows(w.budget, w.elsewhere)
    ) == [("change_budget", "admin", w.granter.pk), ("view_budget", "admin", w.granter.pk)]
    detail = client_for(w.housemate).get(f"/api/v1/budgets/{w.budget.pk}/")
    assert detail.status_code == 200
    assert detail.json()["my_permissions"] == ["view", "change"]


BAD_GRANTS = {
    "no budget": (lambda w: {"user": w.outsider.pk, "permission": "view"}, "budget", "required"),
    "unknown budget": (
        lambda w: {"budget": MISSING, "user": w.outsider.pk, "permission": "view"},
        "budget",
        "does_not_exist",
    ),
    "unknown user": (
        lambda w: {"budget": w.budget.pk, "user": MISSING, "permission": "view"},
        "user",
        "does_not_exist",
    ),
    "unknown household": (
        lambda w: {"budget": w.budget.pk, "household": MISSING, "permission": "view"},
        "household",
        "does_not_exist",
    ),
    "bad level": (
        lambda w: {"budget": w.budget.pk, "user": w.outsider.pk, "permission": "admin"},
        "permission",
        "invalid_choice",
    ),
    "out-of-range budget": (
        lambda w: {"budget": 10**20, "user": w.outsider.pk, "permission": "view"},
        "budget",
        "does_not_exist",
    ),
    "out-of-range user": (
        lambda w: {"budget": w.budget.pk, "user": 10**20, "permission": "view"},
        "user",
        "does_not_exist",
    ),
    "no level": (lambda w: {"budget": w.budget.pk, "user": w.outsider.pk}, "permission", "required"),
    "no grantee": (
        lambda w: {"budget": w.budget.pk, "permission": "view"},
        "non_field_errors",
        "one_grantee",
    ),
    "two grantees": (
        lambda w: {
            "budget": w.budget.pk,
            "user": w.outsider.pk,
            "household": w.elsewhere.pk,
            "permission": "view",
        },
        "non_field_errors",
        "one_grantee",
    ),
    "the owner": (
        lambda w: {"budget": w.budget.pk, "user": w.owner.pk, "permission": "edit"},
        "user",
        "budget_owner",
    ),
}


@pytest.mark.parametrize("case", list(BAD_GRANTS))
def test_bad_grants_are_a_400_and_change_nothing(w, as_, case):
    payload, attr, code = BAD_GRANTS[case]
    before = rows()

    response = as_("granter").post(GRANTS, payload(w), format="json")

    assert_error(response, 400, code, attr=attr)
    assert rows() == before


# --- DELETE: one grant, every row behind it -------------------------------------------


def test_delete_removes_every_row_of_the_grant_and_nothing_else(w, as_):
    granter = as_("granter")
    grant = granter.post(GRANTS, admin_grant(w, user=w.outsider, level="edit"), format="json").json()
    granter.post(GRANTS, admin_grant(w, budget=w.foreign_budget, user=w.outsider), format="json")
    before = rows()

    response = granter.delete(f"{GRANTS}{grant['id']}/")

    assert response.status_code == 204
    assert response.content == b""
    assert not user_rows(w.budget, w.outsider).exists()
    assert rows() == [r for r in before if r[:3] != ("user", w.budget.pk, w.outsider.pk)]
    assert len(before) - len(rows()) == 2


def test_delete_removes_an_owner_made_household_share(w, as_):
    share_household(w.budget, w.home, "edit")
    (grant,) = as_("granter").get(GRANTS, {"household": w.home.pk}).json()["results"]
    assert grant["id"].startswith("g")

    assert as_("granter").delete(f"{GRANTS}{grant['id']}/").status_code == 204
    assert not group_rows(w.budget, w.home).exists()
    assert user_rows(w.budget, w.viewer).exists()


def test_unknown_grant_ids_are_a_404_identical_to_each_other(w, as_):
    granter = as_("granter")
    granter.post(GRANTS, admin_grant(w, user=w.outsider, level="edit"), format="json")
    share_household(w.budget, w.home, "view")
    change_row = user_rows(w.budget, w.outsider).get(permission__codename="change_budget")
    before = rows()
    bodies = set()
    for bad in [
        f"u{MISSING}",
        f"g{MISSING}",
        f"u{change_row.pk}",  # not the grant's id: its second row
        "u0",
        "x1",
        "abc",
        "u1x",
        "u99999999999999999999999",
    ]:
        response = granter.delete(f"{GRANTS}{bad}/")
        assert_error(response, 404, "not_found", attr=None)
        bodies.add(response.content)
    assert len(bodies) == 1
    assert rows() == before


def test_a_deleted_grant_is_gone_for_good(w, as_):
    granter = as_("granter")
    grant = granter.post(GRANTS, admin_grant(w, user=w.outsider), format="json").json()
    assert granter.delete(f"{GRANTS}{grant['id']}/").status_code == 204
    assert_error(granter.delete(f"{GRANTS}{grant['id']}/"), 404, "not_found", attr=None)


def test_get_on_a_grant_is_not_allowed(w, as_):
    grant = user_rows(w.budget, w.viewer).first()
    assert_error(as_("granter").get(f"{GRANTS}u{grant.pk}/"), 405, "method_not_allowed", attr=None)


# --- the owner's view of admin grants --------------------------------------------------


def test_owner_sees_admin_grants_in_shares_as_granted_by_admin(w, as_):
    as_("granter").post(GRANTS, admin_grant(w, user=w.outsider, level="edit"), format="json")
    as_("granter").post(GRANTS, admin_grant(w, household=w.elsewhere), format="json")

    response = as_("owner").get(f"/api/v1/budgets/{w.budget.pk}/shares/")

    assert response.status_code == 200
    shares = {(s["grantee_type"], s["grantee"]["id"]): s for s in response.json()}
    assert {k: (s["permission"], s["granted_by"]) for k, s in shares.items()} == {
        ("user", w.viewer.pk): ("view", "owner"),
        ("user", w.outsider.pk): ("edit", "admin"),
        ("household", w.elsewhere.pk): ("view", "admin"),
    }
    assert shares[("user", w.outsider.pk)]["grantee"] == {"id": w.outsider.pk, "email": w.outsider.email}
    assert shares[("household", w.elsewhere.pk)]["grantee"] == {"id": w.elsewhere.pk, "name": "Elsewhere"}


def test_owner_revokes_admin_grants_through_shares(w, as_, client_for):
    granter = as_("granter")
    granter.post(GRANTS, admin_grant(w, user=w.outsider, level="edit"), format="json")
    granter.post(GRANTS, admin_grant(w, household=w.elsewhere), format="json")
    owner = as_("owner")

    user_response = owner.delete(f"/api/v1/budgets/{w.budget.pk}/shares/users/{w.outsider.pk}/")
    household_response = owner.delete(f"/api/v1/budgets/{w.budget.pk}/shares/households/{w.elsewhere.pk}/")

    assert user_response.status_code == household_response.status_code == 204
    assert not user_rows(w.budget, w.outsider).exists()
    assert not group_rows(w.budget, w.elsewhere).exists()
    assert _pairs(granter.get(GRANTS)) == [(w.budget.pk, "user", w.viewer.pk)]
    assert client_for(w.outsider).get(f"/api/v1/budgets/{w.budget.pk}/").status_code == 404
    assert client_for(w.housemate).get(f"/api/v1/budgets/{w.budget.pk}/").status_code == 404


# --- admin grants outlive households -------------------------------------------------


def test_leaving_a_household_keeps_admin_grants_and_drops_owner_shares(w, as_, client_for):
    mine = BudgetFactory(owner=w.owner, name="Savings")
    share_user(mine, w.viewer, "edit")  # owner-made, through the household
    as_("granter").post(GRANTS, admin_grant(w, user=w.viewer, level="edit"), format="json")  # replaces

    left = client_for(w.viewer).post(f"/api/v1/households/{w.home.pk}/leave/")

    assert left.status_code == 204
    assert [(r.permission.codename, r.source) for r in user_rows(w.budget, w.viewer)] == [
        ("view_budget", "admin"),
        ("change_budget", "admin"),
    ]
    assert not user_rows(mine, w.viewer).exists()
    viewer = client_for(w.viewer)
    assert viewer.get(f"/api/v1/budgets/{w.budget.pk}/").json()["my_permissions"] == ["view", "change"]
    assert viewer.get(f"/api/v1/budgets/{mine.pk}/").status_code == 404


def test_removal_from_a_household_keeps_admin_grants(w, as_):
    as_("granter").post(GRANTS, admin_grant(w, user=w.viewer), format="json")
    as_("granter").post(GRANTS, admin_grant(w, budget=w.foreign_budget, user=w.viewer), format="json")

    response = as_("owner").delete(f"/api/v1/households/{w.home.pk}/members/{w.viewer.pk}/")

    assert response.status_code == 204
    assert _pairs(as_("granter").get(GRANTS, {"user": w.viewer.pk})) == [
        (w.budget.pk, "user", w.viewer.pk),
        (w.foreign_budget.pk, "user", w.viewer.pk),
    ]


# --- what a grant gives: exactly what a share of that level gives ---------------------


@pytest.fixture
def twins(w, as_, client_for):
    """``outsider`` holds an admin grant to view; ``viewer`` an owner share to view."""
    as_("granter").post(GRANTS, admin_grant(w, user=w.outsider), format="json")
    return client_for(w.outsider), client_for(w.viewer)


def _same(admin_granted, shared, method, url, body=None):
    a = getattr(admin_granted, method)(url, body, format="json")
    b = getattr(shared, method)(url, body, format="json")
    assert a.status_code == b.status_code, (a.content, b.content)
    assert a.json() == b.json()
    return a


def test_an_admin_grant_to_view_reads_like_a_share_to_view(w, twins):
    admin_granted, shared = twins
    tx = w.budget.transactions.get()
    listed = _same(admin_granted, shared, "get", "/api/v1/budgets/")
    assert [b["id"] for b in listed.json()["results"]] == [w.budget.pk]
    detail = _same(admin_granted, shared, "get", f"/api/v1/budgets/{w.budget.pk}/")
    assert detail.json()["my_permissions"] == ["view"]
    assert detail.json()["amount"] == "123.45"
    txs = _same(admin_granted, shared, "get", "/api/v1/transactions/", {"budget": w.budget.pk})
    assert [t["id"] for t in txs.json()["results"]] == [tx.pk]
    assert txs.json()["results"][0]["amount"] == "12.30"
    assert _same(admin_granted, shared, "get", f"/api/v1/transactions/{tx.pk}/").status_code == 200


def test_an_admin_grant_to_view_cannot_write_like_a_share_to_view(w, twins):
    admin_granted, shared = twins
    tx = w.budget.transactions.get()
    before = (list(Budget.objects.values()), list(w.budget.transactions.values()))
    for method, url, body in [
        ("patch", f"/api/v1/budgets/{w.budget.pk}/", {"name": "Mine now"}),
        ("delete", f"/api/v1/budgets/{w.budget.pk}/", None),
        ("patch", f"/api/v1/transactions/{tx.pk}/", {"payee": "Me"}),
        (
            "post",
            "/api/v1/transactions/",
            {"budget": w.budget.pk, "kind": "expense", "amount": "1.00", "date": "2026-01-20"},
        ),
    ]:
        assert_error(_same(admin_granted, shared, method, url, body), 403)
    assert (list(Budget.objects.values()), list(w.budget.transactions.values())) == before


def test_an_admin_grant_to_edit_writes_like_a_share_to_edit(w, as_, client_for):
    as_("granter").post(GRANTS, admin_grant(w, user=w.outsider, level="edit"), format="json")
    response = client_for(w.outsider).patch(
        f"/api/v1/budgets/{w.budget.pk}/", {"name": "Food"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Food"
    assert response.json()["my_permissions"] == ["view", "change"]
    assert Budget.objects.get(pk=w.budget.pk).name == "Food"
    assert_error(client_for(w.outsider).delete(f"/api/v1/budgets/{w.budget.pk}/"), 403)
    assert Budget.objects.filter(pk=w.budget.pk).exists()


def test_after_revocation_the_grantee_gets_the_404_of_a_missing_budget(w, as_, twins):
    admin_granted, _shared = twins
    tx = w.budget.transactions.get()
    (grant,) = as_("granter").get(GRANTS, {"user": w.outsider.pk}).json()["results"]

    assert as_("granter").delete(f"{GRANTS}{grant['id']}/").status_code == 204

    gone = admin_granted.get(f"/api/v1/budgets/{w.budget.pk}/")
    missing = admin_granted.get(f"/api/v1/budgets/{MISSING}/")
    assert_error(gone, 404, "not_found", attr=None)
    assert gone.content == missing.content
    assert admin_granted.get("/api/v1/budgets/").json()["count"] == 0
    assert admin_granted.get("/api/v1/transactions/").json()["count"] == 0
    assert admin_granted.get(f"/api/v1/transactions/{tx.pk}/").status_code == 404


def test_a_grant_revoked_while_its_page_is_read_is_left_out(w):
    keys = list(grant_keys())
    vanished = (w.foreign_budget.pk, 0, w.outsider.pk, MISSING, 0, timezone.now())
    assert [g.id for g in grants_for([*keys, vanished])] == [g.id for g in grants_for(keys)]
    assert len(keys) == 1
