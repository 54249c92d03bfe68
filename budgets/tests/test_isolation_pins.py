"""Small tests of the isolation mechanisms themselves, one per rule that no API test would
notice loosening today (found by mutation testing, docs/testing.md): a revoke that reaches
other budgets, a grant revoke that reaches groups that are not households, the inactive
user who must see nothing, and the owner-only actions."""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts.tests.factories import UserFactory
from budgets import services
from budgets.models import (
    Budget,
    BudgetGroupObjectPermission,
    BudgetUserObjectPermission,
    Category,
    GrantSource,
)
from budgets.shares import VIEW_CODENAME, codename_id, share_keys, shares_for
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from households.models import Household, Invitation, Membership
from households.services import membership_leave
from households.tests.factories import InvitationFactory, make_household
from permissions.classes import IsOwner, IsShared

pytestmark = pytest.mark.django_db

GRANTS = "/api/v1/admin/grants/"


def visible_ids(user, action="view") -> set[int]:
    return set(Budget.objects.visible_to(user, action).values_list("pk", flat=True))


def test_revoking_a_share_leaves_the_grantees_shares_on_other_budgets(client_for):
    """X revokes G on X's budget: G's share from Y and a site admin's grant stay."""
    x, y, z, grantee = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    make_household(x, members=[grantee])
    make_household(y, members=[grantee])
    xs, ys, zs = BudgetFactory(owner=x), BudgetFactory(owner=y), BudgetFactory(owner=z)
    share_user(xs, grantee, "edit")
    share_user(ys, grantee, "view")
    services.grant_to_user(budget=zs, grantee=grantee, level="edit", actor=UserFactory(is_staff=True))

    response = client_for(x).delete(f"/api/v1/budgets/{xs.pk}/shares/users/{grantee.pk}/")

    assert response.status_code == 204
    assert visible_ids(grantee) == {ys.pk, zs.pk}
    assert visible_ids(grantee, "change") == {zs.pk}
    assert set(
        BudgetUserObjectPermission.objects.filter(user=grantee).values_list("content_object_id", flat=True)
    ) == {ys.pk, zs.pk}


def test_revoking_a_household_share_leaves_the_households_other_shares():
    owner, other = UserFactory(), UserFactory()
    home = make_household(owner, members=[other])
    mine, theirs = BudgetFactory(owner=owner), BudgetFactory(owner=other)
    share_household(mine, home, "view")
    share_household(theirs, home, "edit")

    services.share_revoke_household(budget=mine, household_id=home.pk)

    assert set(BudgetGroupObjectPermission.objects.values_list("content_object_id", flat=True)) == {theirs.pk}


def test_the_grants_api_cannot_revoke_a_group_that_is_not_a_household(client_for):
    """Guardian rows on a plain auth group (not made by a share or a grant) are not grants."""
    granter = UserFactory(is_staff=True)
    granter.user_permissions.add(
        Permission.objects.get(content_type__app_label="budgets", codename="manage_grants")
    )
    budget = BudgetFactory()
    row = BudgetGroupObjectPermission.objects.create(
        content_object=budget,
        group=Group.objects.create(name="not a household"),
        permission_id=codename_id(VIEW_CODENAME),
        source=GrantSource.ADMIN,
    )

    response = client_for(granter).delete(f"{GRANTS}g{row.pk}/")

    assert response.status_code == 404
    assert BudgetGroupObjectPermission.objects.filter(pk=row.pk).exists()
    with pytest.raises(NotFound):
        services.grant_revoke(grantee_type="household", row_id=row.pk)


@pytest.fixture
def deactivated():
    """A user who owns a budget, holds a user share, a household share and an admin grant,
    belongs to two households and has an invitation waiting, and whose account was then
    deactivated: every scoping path must give them nothing."""
    user, friend = UserFactory(), UserFactory()
    home = make_household(friend, members=[user])
    make_household(user, name="Own")
    own = BudgetFactory(owner=user)
    CategoryFactory(budget=own)
    by_user, by_household = BudgetFactory(owner=friend), BudgetFactory(owner=friend)
    CategoryFactory(budget=by_user)
    share_user(by_user, user, "edit")
    share_household(by_household, home, "edit")
    InvitationFactory(household=make_household(UserFactory(), name="Other"), email=user.email)
    assert len(visible_ids(user)) == 3  # before deactivation
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


@pytest.mark.parametrize("action", ["view", "change", "delete", "share"])
def test_an_inactive_user_sees_no_budget_or_category(deactivated, action):
    assert visible_ids(deactivated, action) == set()
    assert list(Budget.objects.filter(pk__in=Budget.objects.visible_pks(deactivated, action))) == []
    assert Budget.objects.visible_ids(deactivated, action) == []
    assert not Category.objects.visible_to(deactivated, action).exists()


def test_an_inactive_user_may_change_nothing(deactivated):
    assert not any(Budget.objects.with_rights(deactivated).values_list("can_change", flat=True))


@pytest.mark.parametrize("action", ["view", "change", "invite", "delete"])
def test_an_inactive_user_sees_no_household_membership_or_invitation(deactivated, action):
    assert not Household.objects.visible_to(deactivated, action).exists()
    assert not Membership.objects.visible_to(deactivated, action).exists()
    invitation_action = "view" if action == "view" else action
    assert not Invitation.objects.visible_to(deactivated, invitation_action).exists()


def test_the_permission_classes_refuse_an_inactive_user(deactivated, rf):
    request = rf.get("/")
    request.user = deactivated
    assert not IsOwner().has_permission(request, None)
    assert not IsShared().has_permission(request, None)


def test_delete_and_share_belong_to_the_owner_alone():
    """An editor (user share, household share, admin grant) may change a budget, never
    delete it or share it: visible_to and visible_pks say the same."""
    owner, editor = UserFactory(), UserFactory()
    home = make_household(owner, members=[editor])
    by_user, by_household, granted = (BudgetFactory(owner=owner) for _ in range(3))
    share_user(by_user, editor, "edit")
    share_household(by_household, home, "edit")
    services.grant_to_user(budget=granted, grantee=editor, level="edit", actor=UserFactory(is_staff=True))
    own = BudgetFactory(owner=editor)
    shared = {by_user.pk, by_household.pk, granted.pk}

    assert visible_ids(editor, "change") == shared | {own.pk}
    for action in ("delete", "share"):
        assert visible_ids(editor, action) == {own.pk}
        pks = Budget.objects.visible_pks(editor, action)
        assert set(Budget.objects.filter(pk__in=pks).values_list("pk", flat=True)) == {own.pk}


@pytest.mark.parametrize("method", ["visible_to", "visible_pks", "visible_ids"])
def test_an_unknown_budget_action_is_a_programming_error(method):
    with pytest.raises(ValueError, match="Unknown budget action"):
        getattr(Budget.objects, method)(UserFactory(), "export")


def test_visible_ids_are_the_visible_budgets_ids_resolved_now():
    owner, viewer = UserFactory(), UserFactory()
    make_household(owner, members=[viewer])
    shared, private, theirs = BudgetFactory(owner=owner), BudgetFactory(owner=owner), BudgetFactory()
    share_user(shared, viewer, "view")
    assert sorted(Budget.objects.visible_ids(owner)) == sorted([shared.pk, private.pk])
    assert Budget.objects.visible_ids(viewer) == [shared.pk]
    assert Budget.objects.visible_ids(viewer, "change") == []
    assert theirs.pk not in Budget.objects.visible_ids(owner, "change")


def test_a_budget_deleted_meanwhile_reads_like_an_unknown_id_in_the_body():
    """The lock finds the budget gone: the body's "budget" is answered as an unknown id."""
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    Budget.objects.filter(pk=budget.pk).delete()
    with pytest.raises(ValidationError) as raised:
        services.category_create(budget=budget, name="Food", actor=owner)
    assert raised.value.detail == {"budget": [f'Invalid pk "{budget.pk}" - object does not exist.']}
    assert raised.value.get_codes() == {"budget": ["does_not_exist"]}


def test_categories_are_written_only_where_their_budget_may_be_changed():
    owner, editor, viewer = UserFactory(), UserFactory(), UserFactory()
    make_household(owner, members=[editor, viewer])
    budget = BudgetFactory(owner=owner)
    share_user(budget, editor, "edit")
    share_user(budget, viewer, "view")
    food = CategoryFactory(budget=budget)

    assert list(Category.objects.visible_to(viewer)) == [food]
    assert list(Category.objects.visible_to(viewer, "change")) == []
    assert list(Category.objects.visible_to(editor, "change")) == [food]
    assert list(Category.objects.visible_to(editor, "delete")) == [food]  # a category's delete is a change


def test_share_keys_come_ordered_by_budget_then_users_then_households_then_grantee():
    owner = UserFactory()
    late, early = UserFactory(), UserFactory()  # created in this order: early has the higher id
    home = make_household(owner, members=[late, early])
    first, second = BudgetFactory(owner=owner), BudgetFactory(owner=owner)
    share_household(second, home, "view")
    share_user(second, early, "view")
    share_user(second, late, "edit")
    share_user(first, early, "view")

    keys = [(budget, kind, grantee) for budget, kind, grantee, *_ in share_keys()]

    assert keys == [
        (first.pk, 0, early.pk),
        (second.pk, 0, late.pk),
        (second.pk, 0, early.pk),
        (second.pk, 1, home.pk),
    ]


def test_shares_revoked_between_the_two_reads_are_left_out_and_the_rest_kept():
    owner, a, b, c = (UserFactory() for _ in range(4))
    make_household(owner, members=[a, b, c])
    budget = BudgetFactory(owner=owner)
    for user in (a, b, c):
        share_user(budget, user, "view")
    keys = list(share_keys(budget=budget))
    BudgetUserObjectPermission.objects.filter(user=b).delete()

    assert [share.grantee for share in shares_for(keys)] == [a, c]


def test_sharing_with_someone_outside_your_households_says_why(client_for):
    owner, stranger = UserFactory(), UserFactory()
    budget = BudgetFactory(owner=owner)
    response = client_for(owner).put(
        f"/api/v1/budgets/{budget.pk}/shares/users/{stranger.pk}/", {"permission": "view"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "no_common_household",
            "detail": "You can share only with someone who is in a household with you.",
            "attr": "user",
        }
    ]


def test_leaving_a_household_ends_the_owners_share_with_it_but_not_an_admins_grant():
    owner, other = UserFactory(), UserFactory()
    home = make_household(other, members=[owner])
    shared, granted = BudgetFactory(owner=owner), BudgetFactory(owner=owner)
    share_household(shared, home, "view")
    services.grant_to_household(
        budget=granted, household=home, level="view", actor=UserFactory(is_staff=True)
    )

    membership_leave(household=home, user=owner)

    assert list(BudgetGroupObjectPermission.objects.values_list("content_object_id", "source")) == [
        (granted.pk, GrantSource.ADMIN)
    ]


def test_a_write_checked_under_the_lock_answers_a_caller_who_lost_sight_as_the_caller_says():
    """require_change passes its ``missing`` on: a category for a budget the caller can no
    longer see reads like an unknown budget id (400), not a 404; one they only view is a 403
    with the reason."""
    owner, viewer = UserFactory(), UserFactory()
    make_household(owner, members=[viewer])
    budget = BudgetFactory(owner=owner)
    share_user(budget, viewer, "view")

    with pytest.raises(ValidationError) as unseen:
        services.category_create(budget=budget, name="Food", actor=UserFactory())
    assert unseen.value.get_codes() == {"budget": ["does_not_exist"]}
    with pytest.raises(PermissionDenied) as viewed:
        services.category_create(budget=budget, name="Food", actor=viewer)
    assert str(viewed.value.detail) == "You can view this budget but not change it."
    assert not Category.objects.exists()


def test_an_inactive_owner_holds_no_right_on_their_budgets(deactivated):
    assert set(Budget.objects.with_rights(deactivated).values_list("can_change", flat=True)) == {False}


def test_can_change_is_per_budget_for_every_way_in():
    """with_rights: the owner; an edit share, by user or by household, on that budget only."""
    owner, sharee = UserFactory(), UserFactory()
    home = make_household(owner, members=[sharee])
    user_edit, user_view, household_edit, household_view = (BudgetFactory(owner=owner) for _ in range(4))
    share_user(user_edit, sharee, "edit")
    share_user(user_view, sharee, "view")
    share_household(household_edit, home, "edit")
    other_owner = UserFactory()
    make_household(other_owner, members=[sharee])
    theirs = BudgetFactory(owner=other_owner)
    share_household(theirs, Household.objects.get(memberships__user=other_owner), "view")
    share_household(household_view, home, "view")

    def rights(user):
        return dict(Budget.objects.visible_to(user).with_rights(user).values_list("pk", "can_change"))

    assert rights(owner) == {b.pk: True for b in (user_edit, user_view, household_edit, household_view)}
    assert rights(sharee) == {
        user_edit.pk: True,
        user_view.pk: False,
        household_edit.pk: True,
        household_view.pk: False,
        theirs.pk: False,
    }
