"""The membership services: the household group's users are exactly the members after
every change, in the same transaction; and a household has exactly one owner."""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models.signals import m2m_changed
from rest_framework.exceptions import ValidationError

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import BudgetGroupObjectPermission, BudgetUserObjectPermission
from budgets.tests.factories import BudgetFactory, share_household, share_user
from households import services
from households.models import Household, Membership, Role
from households.tests.factories import InvitationFactory, make_household
from households.tests.helpers import db_state, group_user_ids, household_url, member_ids, owners, roles
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def assert_group_is_members(household: Household) -> None:
    household.refresh_from_db()
    assert group_user_ids(household) == member_ids(household)
    assert household.group.name == f"household:{household.pk}"
    assert not household.group.permissions.exists()


# --- the group follows the members ------------------------------------------------------


def test_create_puts_the_owner_alone_in_a_fresh_group():
    owner = UserFactory()

    household = services.household_create(name="Home", actor=owner)

    assert roles(household) == {owner.pk: Role.OWNER}
    assert group_user_ids(household) == {owner.pk}
    assert_group_is_members(household)
    other = services.household_create(name="Home", actor=owner)
    assert other.group_id != household.group_id


def test_accept_adds_the_invitee_to_the_group(world):
    household = world.home
    invitee = UserFactory()
    invitation = InvitationFactory(household=household, email=invitee.email, role=Role.ADMIN)

    membership = services.invitation_accept(invitation=invitation, user=invitee)

    assert (membership.user_id, membership.role) == (invitee.pk, Role.ADMIN)
    assert invitee.pk in group_user_ids(household)
    assert_group_is_members(household)


@pytest.mark.parametrize("leaver", ["admin", "member"])
def test_leave_takes_the_user_out_of_the_group(world, leaver):
    household, user = world.home, getattr(world, leaver)

    services.membership_leave(household=household, user=user)

    assert user.pk not in member_ids(household)
    assert user.pk not in group_user_ids(household)
    assert_group_is_members(household)


@pytest.mark.parametrize(("actor", "target"), [("owner", "admin"), ("owner", "member"), ("admin", "member")])
def test_remove_takes_the_user_out_of_the_group(world, actor, target):
    household, removed = world.home, getattr(world, target)

    services.membership_remove(household=household, user_id=removed.pk, actor=getattr(world, actor))

    assert removed.pk not in member_ids(household)
    assert removed.pk not in group_user_ids(household)
    assert not removed.groups.filter(pk=household.group_id).exists()
    assert_group_is_members(household)


def test_transfer_keeps_the_group_and_leaves_exactly_one_owner(world):
    household, owner, admin, member = world.home, world.owner, world.admin, world.member

    services.membership_change_role(household=household, user_id=member.pk, role=Role.OWNER, actor=owner)

    assert roles(household) == {
        owner.pk: Role.ADMIN,
        admin.pk: Role.ADMIN,
        world.editor.pk: Role.MEMBER,
        world.viewer.pk: Role.MEMBER,
        member.pk: Role.OWNER,
    }
    assert owners(household) == [member.pk]
    assert_group_is_members(household)


def test_last_member_leaving_deletes_household_and_group():
    owner = UserFactory()
    household = make_household(owner)
    group_id = household.group_id

    services.membership_leave(household=household, user=owner)

    assert not Household.objects.filter(pk=household.pk).exists()
    assert not Group.objects.filter(pk=group_id).exists()
    assert not owner.groups.exists()


def test_delete_empties_and_drops_the_group_and_its_shares(world):
    household, member = world.home, world.member
    group_id = household.group_id
    share_household(BudgetFactory(owner=member), household)
    other = make_household(member, name="Other")

    services.household_delete(household=household)

    assert not Group.objects.filter(pk=group_id).exists()
    assert not User.groups.through.objects.filter(group_id=group_id).exists()
    assert not BudgetGroupObjectPermission.objects.filter(group_id=group_id).exists()
    assert_group_is_members(other)
    assert_group_is_members(world.elsewhere)


# --- leaving or being removed is one transaction ----------------------------------------


@pytest.fixture
def world_with_shares(world):
    """The member shares a budget with the household and with the admin, so their
    departure has a second half to run: group removal and share revocation."""
    budget = BudgetFactory(owner=world.member)
    share_household(budget, world.home)
    share_user(budget, world.admin)
    return world


def shares_of(user) -> tuple[int, int]:
    """(household shares, user shares) of the budgets ``user`` owns."""
    return (
        BudgetGroupObjectPermission.objects.filter(content_object__owner=user).count(),
        BudgetUserObjectPermission.objects.filter(content_object__owner=user).count(),
    )


def depart(how: str, world) -> None:
    """The member leaves, or the owner removes them."""
    if how == "leave":
        services.membership_leave(household=world.home, user=world.member)
    else:
        services.membership_remove(household=world.home, user_id=world.member.pk, actor=world.owner)


@contextmanager
def group_removal_fails():
    """The household group's user_set.remove() runs its DELETE, then raises."""

    def explode(sender, action, **kwargs):
        if action == "post_remove":
            raise RuntimeError("group removal failed")

    m2m_changed.connect(explode, sender=User.groups.through, dispatch_uid="test-group-removal-fails")
    try:
        yield
    finally:
        m2m_changed.disconnect(sender=User.groups.through, dispatch_uid="test-group-removal-fails")


@pytest.mark.parametrize("how", ["leave", "remove"])
def test_departure_removes_membership_group_and_shares_together(world_with_shares, how):
    world = world_with_shares
    assert shares_of(world.member) == (1, 1)

    depart(how, world)

    assert world.member.pk not in member_ids(world.home)
    assert world.member.pk not in group_user_ids(world.home)
    assert shares_of(world.member) == (0, 0)


@pytest.mark.parametrize("how", ["leave", "remove"])
def test_failed_share_revocation_undoes_membership_and_group_removal(world_with_shares, how):
    world = world_with_shares
    before = db_state()
    failing = mock.patch("budgets.services.shares_revoke_on_departure", side_effect=RuntimeError("boom"))

    with failing as revoke, pytest.raises(RuntimeError, match="boom"):
        depart(how, world)

    assert revoke.call_count == 1  # it ran after the membership and group rows were gone
    assert db_state() == before
    assert roles(world.home)[world.member.pk] == Role.MEMBER
    assert world.member.pk in group_user_ids(world.home)
    assert shares_of(world.member) == (1, 1)


@pytest.mark.parametrize("how", ["leave", "remove"])
def test_failed_group_removal_undoes_the_membership_deletion(world_with_shares, how):
    world = world_with_shares
    before = db_state()

    with group_removal_fails(), pytest.raises(RuntimeError, match="group removal failed"):
        depart(how, world)

    assert db_state() == before
    assert world.member.pk in member_ids(world.home)
    assert world.member.pk in group_user_ids(world.home)
    assert shares_of(world.member) == (1, 1)


def test_failed_departure_through_the_api_is_a_500_that_changes_nothing(world_with_shares, client_for):
    world = world_with_shares
    client = client_for(world.member)
    client.raise_request_exception = False
    before = db_state()

    with mock.patch("budgets.services.shares_revoke_on_departure", side_effect=RuntimeError("boom")):
        response = client.post(household_url(world.home.pk, "leave/"))

    body = assert_error(response, 500, code="error", attr=None)
    assert body["type"] == "server_error"
    assert db_state() == before
    assert shares_of(world.member) == (1, 1)


def test_failed_household_delete_keeps_household_group_and_members(world_with_shares):
    world = world_with_shares
    before = db_state()

    with group_removal_fails(), pytest.raises(RuntimeError, match="group removal failed"):
        services.household_delete(household=world.home)

    assert db_state() == before
    assert_group_is_members(world.home)
    assert shares_of(world.member) == (1, 1)


# --- exactly one owner ------------------------------------------------------------------


def test_database_refuses_a_second_owner(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(household=world.home, user=UserFactory(), role=Role.OWNER)

    assert owners(world.home) == [world.owner.pk]


def test_database_refuses_promoting_a_second_owner_in_place(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(household=world.home, user=world.admin).update(role=Role.OWNER)

    assert owners(world.home) == [world.owner.pk]


def test_owners_of_different_households_do_not_clash(world):
    other = make_household(world.admin, name="Other")

    assert owners(world.home) == [world.owner.pk]
    assert owners(other) == [world.admin.pk]


def test_database_refuses_an_unknown_role_and_a_second_membership(world):
    household, owner, admin, member = world.home, world.owner, world.admin, world.member

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(household=household, user=UserFactory(), role="emperor")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(household=household, user=member, role=Role.ADMIN)

    assert roles(household) == {
        owner.pk: Role.OWNER,
        admin.pk: Role.ADMIN,
        world.editor.pk: Role.MEMBER,
        world.viewer.pk: Role.MEMBER,
        member.pk: Role.MEMBER,
    }


def test_owner_cannot_demote_themself_without_a_successor(world):
    with pytest.raises(ValidationError) as raised:
        services.membership_change_role(
            household=world.home, user_id=world.owner.pk, role=Role.ADMIN, actor=world.owner
        )

    assert raised.value.get_codes() == {"role": ["owner_cannot_demote_self"]}
    assert owners(world.home) == [world.owner.pk]


@pytest.mark.parametrize("role", [Role.OWNER, "emperor"])
def test_invitation_cannot_carry_the_owner_or_an_unknown_role(world, role):
    before = db_state()

    with pytest.raises(ValidationError) as raised:
        services.invitation_create(
            household=world.home, email="new@example.com", role=role, actor=world.owner
        )

    assert raised.value.get_codes() == {"role": ["invalid_choice"]}
    assert db_state() == before
