"""Every households route with every actor of Home (households/tests/fixtures.py): owner,
admin, member (editor and viewer are plain members too), stranger (the owner of another
household), invitee and anonymous. Allowed actions succeed and leave the right rows;
refused ones get exactly 401/403/404 with the standard body and change nothing."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from rest_framework.fields import DateTimeField

from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetGroupObjectPermission
from budgets.tests.factories import BudgetFactory, share_household
from households.models import Household, Invitation, InvitationStatus, Membership, Role
from households.tests.factories import InvitationFactory, add_member, make_household
from households.tests.helpers import (
    API,
    db_state,
    group_user_ids,
    household_url,
    invitation_url,
    member_ids,
    missing_household_id,
    owners,
    roles,
    user_body,
)
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

HOUSEHOLDS = f"{API}/households/"
MY_INVITATIONS = f"{API}/invitations/"
MEMBER_ROLES = [("owner", Role.OWNER), ("admin", Role.ADMIN), ("member", Role.MEMBER)]


def iso(value) -> str:
    return DateTimeField().to_representation(value)


def send(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)


def assert_unauthenticated(response):
    assert_error(response, 401, code="not_authenticated", attr=None)


def assert_forbidden(response, code="permission_denied"):
    assert_error(response, 403, code=code, attr=None)


def assert_not_found(response):
    assert_error(response, 404, code="not_found", attr=None)


# Every route under households/{id}/: (method, suffix, body). {member} and {invitation}
# are filled in from the world fixture.
HOUSEHOLD_ROUTES = [
    ("get", "", None),
    ("patch", "", {"name": "Taken over"}),
    ("delete", "", None),
    ("get", "members/", None),
    ("patch", "members/{member}/", {"role": "admin"}),
    ("delete", "members/{member}/", None),
    ("post", "leave/", None),
    ("get", "invitations/", None),
    ("post", "invitations/", {"email": "new-person@example.com", "role": "member"}),
    ("delete", "invitations/{invitation}/", None),
]
ROUTE_IDS = [f"{method} {suffix or '/'}" for method, suffix, _ in HOUSEHOLD_ROUTES]


def route(world, suffix: str) -> str:
    return suffix.format(member=world.member.pk, invitation=world.invitation.pk)


# --- access rules on every households/{id}/ route ---------------------------------------


@pytest.mark.parametrize("actor", ["stranger", "invitee"])  # a pending invitation is not membership
@pytest.mark.parametrize(("method", "suffix", "data"), HOUSEHOLD_ROUTES, ids=ROUTE_IDS)
def test_non_member_gets_404_identical_to_missing_household_on_every_route(
    world, as_, actor, method, suffix, data
):
    client = as_(actor)
    before = db_state()

    foreign = send(client, method, household_url(world.home.pk, route(world, suffix)), data)
    missing = send(client, method, household_url(missing_household_id(), route(world, suffix)), data)

    assert_not_found(foreign)
    assert foreign.content == missing.content
    assert foreign["Content-Type"] == missing["Content-Type"]
    assert db_state() == before


@pytest.mark.parametrize(("method", "suffix", "data"), HOUSEHOLD_ROUTES, ids=ROUTE_IDS)
def test_anonymous_gets_401_on_every_household_route(world, as_, method, suffix, data):
    before = db_state()

    response = send(as_("anonymous"), method, household_url(world.home.pk, route(world, suffix)), data)

    assert_unauthenticated(response)
    assert db_state() == before


def test_malformed_household_id_is_404_like_a_missing_one(world, as_):
    client = as_("owner")

    malformed = client.get(household_url("not-a-number"))
    missing = client.get(household_url(missing_household_id()))

    assert_not_found(malformed)
    assert malformed.content == missing.content


# --- households/ list -------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "role"), MEMBER_ROLES)
def test_member_lists_only_their_households_with_their_role(world, as_, actor, role):
    response = as_(actor).get(HOUSEHOLDS)

    assert response.status_code == 200, response.json()
    body = response.json()
    household = world.home
    household.refresh_from_db()
    world.flat.refresh_from_db()
    home = {
        "id": household.pk,
        "name": "Home",
        "my_role": role,
        "member_count": 5,
        "created_at": iso(household.created_at),
        "updated_at": iso(household.updated_at),
        "version": household.version,
    }
    # The owner also owns Flat (with household_editor).
    flat = {
        "id": world.flat.pk,
        "name": "Flat",
        "my_role": "owner",
        "member_count": 2,
        "created_at": iso(world.flat.created_at),
        "updated_at": iso(world.flat.updated_at),
        "version": world.flat.version,
    }
    expected = [home, flat] if actor == "owner" else [home]
    assert body["count"] == len(expected)
    assert sorted(body["results"], key=lambda item: item["id"]) == expected  # Home is the older


def test_stranger_lists_only_their_own_household(world, as_):
    make_household(name="Third", members=[UserFactory()])

    body = as_("stranger").get(HOUSEHOLDS).json()

    assert body["count"] == 1
    assert [(h["id"], h["name"], h["my_role"], h["member_count"]) for h in body["results"]] == [
        (world.elsewhere.pk, "Elsewhere", "owner", 2)
    ]


def test_user_in_no_household_lists_none(world, client_for):
    response = client_for(UserFactory()).get(HOUSEHOLDS)

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_member_of_several_households_lists_each_with_its_own_role(world, as_):
    second = make_household(world.member, name="Second")

    body = as_("member").get(HOUSEHOLDS).json()

    assert body["count"] == 2
    assert {h["id"]: (h["my_role"], h["member_count"]) for h in body["results"]} == {
        world.home.pk: ("member", 5),
        second.pk: ("owner", 1),
    }


def test_households_list_newest_first_and_pages_never_repeat_or_skip(client_for):
    """The member count's GROUP BY drops the model's default ordering, so the list orders
    explicitly: newest first, the id breaking ties (several created at one instant)."""
    user = UserFactory()
    households = [make_household(user, name=f"H{n}") for n in range(5)]
    instant = timezone.now()
    Household.objects.filter(pk__in=[h.pk for h in households[:3]]).update(created_at=instant)
    Household.objects.filter(pk=households[4].pk).update(created_at=instant - timedelta(days=1))
    expected = [households[2].pk, households[1].pk, households[0].pk, households[3].pk, households[4].pk]
    api = client_for(user)

    assert [h["id"] for h in api.get(HOUSEHOLDS).json()["results"]] == expected
    pages = [api.get(HOUSEHOLDS, {"limit": 2, "offset": offset}).json()["results"] for offset in (0, 2, 4)]
    assert [h["id"] for page in pages for h in page] == expected


def test_anonymous_cannot_list_households(world, as_):
    assert_unauthenticated(as_("anonymous").get(HOUSEHOLDS))


# --- households/ create -----------------------------------------------------------------


@pytest.mark.parametrize("actor", ["owner", "member", "stranger", "invitee"])
def test_any_signed_in_user_creates_household_and_becomes_its_owner(world, client_for, actor):
    creator = getattr(world, actor)

    response = client_for(creator).post(HOUSEHOLDS, {"name": "  Cabin  "})

    assert response.status_code == 201, response.json()
    body = response.json()
    household = Household.objects.get(pk=body["id"])
    assert body == {
        "id": household.pk,
        "name": "Cabin",
        "my_role": "owner",
        "member_count": 1,
        "created_at": iso(household.created_at),
        "updated_at": iso(household.updated_at),
        "version": household.version,
    }
    assert roles(household) == {creator.pk: Role.OWNER}
    assert household.group.name == f"household:{household.pk}"
    assert group_user_ids(household) == {creator.pk}
    assert not household.group.permissions.exists()


@pytest.mark.parametrize(
    ("data", "code"), [({"name": "   "}, "blank"), ({}, "required"), ({"name": "x" * 101}, "max_length")]
)
def test_create_household_rejects_invalid_name(world, as_, data, code):
    before = db_state()

    response = as_("owner").post(HOUSEHOLDS, data)

    assert_error(response, 400, code=code, attr="name")
    assert db_state() == before


def test_anonymous_cannot_create_household(world, as_):
    before = db_state()

    assert_unauthenticated(as_("anonymous").post(HOUSEHOLDS, {"name": "Cabin"}))
    assert db_state() == before


# --- households/{id}/ GET, PATCH, DELETE ------------------------------------------------


@pytest.mark.parametrize(("actor", "role"), MEMBER_ROLES)
def test_member_reads_household(world, as_, actor, role):
    response = as_(actor).get(household_url(world.home.pk))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["name"], body["my_role"], body["member_count"]) == (
        world.home.pk,
        "Home",
        role,
        5,
    )


@pytest.mark.parametrize("actor", ["owner", "admin"])
def test_owner_and_admin_can_rename_household(world, as_, actor):
    response = as_(actor).patch(household_url(world.home.pk), {"name": "New home"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["name"], body["my_role"], body["member_count"]) == (
        world.home.pk,
        "New home",
        actor,
        5,
    )
    assert Household.objects.get(pk=world.home.pk).name == "New home"
    assert Household.objects.get(pk=world.elsewhere.pk).name == "Elsewhere"


def test_member_cannot_rename_household(world, as_):
    before = db_state()

    assert_forbidden(as_("member").patch(household_url(world.home.pk), {"name": "Mine now"}))
    assert db_state() == before


def test_rename_rejects_blank_name(world, as_):
    before = db_state()

    response = as_("owner").patch(household_url(world.home.pk), {"name": " "})

    assert_error(response, 400, code="blank", attr="name")
    assert db_state() == before


def test_owner_deletes_household_with_memberships_group_invitations_and_shares(world, as_):
    household = world.home
    group_id = household.group_id
    budget = BudgetFactory(owner=world.member)
    share_household(budget, household)
    foreign_budget = BudgetFactory(owner=world.stranger)
    share_household(foreign_budget, world.elsewhere)
    elsewhere_before = (member_ids(world.elsewhere), group_user_ids(world.elsewhere))

    response = as_("owner").delete(household_url(household.pk))

    assert response.status_code == 204
    assert response.content == b""
    assert not Household.objects.filter(pk=household.pk).exists()
    assert not Membership.objects.filter(household_id=household.pk).exists()
    assert not Invitation.objects.filter(household_id=household.pk).exists()
    assert not Group.objects.filter(pk=group_id).exists()
    assert not world.member.groups.filter(pk=group_id).exists()
    assert not BudgetGroupObjectPermission.objects.filter(group_id=group_id).exists()
    assert Budget.objects.filter(pk=budget.pk).exists()  # the budget stays with its owner
    # The stranger's household is untouched.
    assert (member_ids(world.elsewhere), group_user_ids(world.elsewhere)) == elsewhere_before
    assert Invitation.objects.filter(pk=world.foreign_invitation.pk, status="pending").exists()
    assert BudgetGroupObjectPermission.objects.filter(group_id=world.elsewhere.group_id).exists()


@pytest.mark.parametrize("actor", ["admin", "member"])
def test_admin_and_member_cannot_delete_household(world, as_, actor):
    before = db_state()

    assert_forbidden(as_(actor).delete(household_url(world.home.pk)))
    assert db_state() == before


# --- households/{id}/members/ -----------------------------------------------------------


@pytest.mark.parametrize("actor", ["owner", "admin", "member"])
def test_member_lists_exactly_the_households_members(world, as_, actor):
    response = as_(actor).get(household_url(world.home.pk, "members/"))

    assert response.status_code == 200, response.json()
    memberships = {m.user_id: m for m in Membership.objects.filter(household=world.home)}
    assert response.json() == [
        {
            "id": memberships[user.pk].pk,
            "user": user_body(user),
            "role": role,
            "joined_at": iso(memberships[user.pk].joined_at),
            "version": memberships[user.pk].version,
        }
        for user, role in [
            (world.owner, "owner"),
            (world.admin, "admin"),
            (world.editor, "member"),
            (world.viewer, "member"),
            (world.member, "member"),
        ]
    ]


# --- households/{id}/members/{user_id}/ PATCH -------------------------------------------


@pytest.mark.parametrize(
    ("target", "new_role"), [("member", Role.ADMIN), ("admin", Role.MEMBER), ("member", Role.MEMBER)]
)
def test_owner_changes_a_members_role(world, as_, target, new_role):
    user = getattr(world, target)

    response = as_("owner").patch(household_url(world.home.pk, f"members/{user.pk}/"), {"role": new_role})

    assert response.status_code == 200, response.json()
    membership = Membership.objects.get(household=world.home, user=user)
    assert response.json() == {
        "id": membership.pk,
        "user": user_body(user),
        "role": new_role,
        "joined_at": iso(membership.joined_at),
        "version": 2,
    }
    assert response["ETag"] == f'"{membership.pk}-2"'
    assert membership.version == 2
    assert membership.role == new_role
    assert owners(world.home) == [world.owner.pk]
    assert group_user_ids(world.home) == member_ids(world.home)


@pytest.mark.parametrize("target", ["admin", "member"])
def test_owner_transfers_ownership_and_becomes_admin(world, as_, client_for, target):
    new_owner = getattr(world, target)
    url = household_url(world.home.pk, f"members/{new_owner.pk}/")

    response = as_("owner").patch(url, {"role": "owner"})

    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "owner"
    household_roles = roles(world.home)
    assert household_roles[new_owner.pk] == Role.OWNER
    assert household_roles[world.owner.pk] == Role.ADMIN
    assert owners(world.home) == [new_owner.pk]
    assert group_user_ids(world.home) == member_ids(world.home)
    # The new owner now holds the owner's rights, and the previous owner does not.
    back = household_url(world.home.pk, f"members/{world.owner.pk}/")
    assert_forbidden(as_("owner").patch(back, {"role": "owner"}), code="only_owner_changes_roles")
    assert client_for(new_owner).patch(back, {"role": "member"}).status_code == 200
    assert roles(world.home)[world.owner.pk] == Role.MEMBER


@pytest.mark.parametrize("actor", ["admin", "member"])
@pytest.mark.parametrize(
    ("target", "new_role"), [("member", "admin"), ("member", "owner"), ("owner", "member")]
)
def test_only_the_owner_changes_roles(world, as_, actor, target, new_role):
    url = household_url(world.home.pk, f"members/{getattr(world, target).pk}/")
    before = db_state()

    assert_forbidden(as_(actor).patch(url, {"role": new_role}), code="only_owner_changes_roles")
    assert db_state() == before


def test_admin_cannot_promote_themself(world, as_):
    before = db_state()
    url = household_url(world.home.pk, f"members/{world.admin.pk}/")

    assert_forbidden(as_("admin").patch(url, {"role": "owner"}), code="only_owner_changes_roles")
    assert db_state() == before


@pytest.mark.parametrize("new_role", ["admin", "member", "owner"])
def test_owner_cannot_change_their_own_role(world, as_, new_role):
    before = db_state()
    url = household_url(world.home.pk, f"members/{world.owner.pk}/")

    response = as_("owner").patch(url, {"role": new_role})

    assert_error(response, 400, code="owner_cannot_demote_self", attr="role")
    assert db_state() == before


def test_role_change_rejects_unknown_role(world, as_):
    before = db_state()
    url = household_url(world.home.pk, f"members/{world.member.pk}/")

    assert_error(as_("owner").patch(url, {"role": "emperor"}), 400, code="invalid_choice", attr="role")
    assert db_state() == before


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_member_route_for_someone_outside_the_household_is_404_like_a_missing_user(world, as_, method):
    client = as_("owner")
    before = db_state()
    data = {"role": "admin"} if method == "patch" else None
    missing_user_id = world.stranger.pk + 10_000

    outsider = send(client, method, household_url(world.home.pk, f"members/{world.stranger.pk}/"), data)
    missing = send(client, method, household_url(world.home.pk, f"members/{missing_user_id}/"), data)

    assert_not_found(outsider)
    assert outsider.content == missing.content
    assert db_state() == before


# --- households/{id}/members/{user_id}/ DELETE ------------------------------------------


@pytest.mark.parametrize(("actor", "target"), [("owner", "admin"), ("owner", "member"), ("admin", "member")])
def test_allowed_roles_remove_a_member(world, as_, actor, target):
    removed = getattr(world, target)

    response = as_(actor).delete(household_url(world.home.pk, f"members/{removed.pk}/"))

    assert response.status_code == 204
    assert response.content == b""
    assert removed.pk not in member_ids(world.home)
    assert removed.pk not in group_user_ids(world.home)
    assert (
        group_user_ids(world.home) == member_ids(world.home) and len(member_ids(world.home)) == 4
    )  # of five
    assert owners(world.home) == [world.owner.pk]


@pytest.mark.parametrize(
    ("actor", "target"),
    [
        ("owner", "owner"),  # the owner leaves instead (after transferring)
        ("admin", "owner"),
        ("admin", "other_admin"),
        ("admin", "admin"),
        ("member", "owner"),
        ("member", "admin"),
        ("member", "other_member"),
        ("member", "member"),
    ],
)
def test_roles_that_may_not_remove_someone_get_403(world, as_, actor, target):
    others = {
        "other_admin": add_member(world.home, UserFactory(), Role.ADMIN).user,
        "other_member": add_member(world.home, UserFactory(), Role.MEMBER).user,
    }
    removed = others.get(target) or getattr(world, target)
    before = db_state()

    response = as_(actor).delete(household_url(world.home.pk, f"members/{removed.pk}/"))

    assert_forbidden(response)
    assert db_state() == before


# --- households/{id}/leave/ -------------------------------------------------------------


@pytest.mark.parametrize("actor", ["admin", "member"])
def test_admin_and_member_can_leave(world, as_, actor):
    leaver = getattr(world, actor)

    response = as_(actor).post(household_url(world.home.pk, "leave/"))

    assert response.status_code == 204
    assert response.content == b""
    assert leaver.pk not in member_ids(world.home)
    assert group_user_ids(world.home) == member_ids(world.home)
    assert len(member_ids(world.home)) == 4  # of five
    assert as_(actor).get(household_url(world.home.pk)).status_code == 404


def test_owner_cannot_leave_while_others_remain(world, as_):
    before = db_state()

    response = as_("owner").post(household_url(world.home.pk, "leave/"))

    assert_error(response, 409, code="owner_must_transfer", attr=None)
    assert db_state() == before


def test_last_member_leaving_deletes_household_and_its_group(world, client_for):
    solo = make_household(world.stranger, name="Solo")
    group_id = solo.group_id
    invitation = InvitationFactory(household=solo)
    before_elsewhere = (member_ids(world.elsewhere), group_user_ids(world.elsewhere))

    response = client_for(world.stranger).post(household_url(solo.pk, "leave/"))

    assert response.status_code == 204
    assert not Household.objects.filter(pk=solo.pk).exists()
    assert not Membership.objects.filter(household_id=solo.pk).exists()
    assert not Group.objects.filter(pk=group_id).exists()
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert (member_ids(world.elsewhere), group_user_ids(world.elsewhere)) == before_elsewhere


def test_owner_can_leave_after_transferring_ownership(world, as_):
    household = world.home
    as_("owner").patch(household_url(household.pk, f"members/{world.admin.pk}/"), {"role": "owner"})

    response = as_("owner").post(household_url(household.pk, "leave/"))

    assert response.status_code == 204
    assert roles(household) == {
        world.admin.pk: Role.OWNER,
        world.editor.pk: Role.MEMBER,
        world.viewer.pk: Role.MEMBER,
        world.member.pk: Role.MEMBER,
    }
    assert group_user_ids(household) == {world.admin.pk, world.editor.pk, world.viewer.pk, world.member.pk}


# --- households/{id}/invitations/ GET, POST ---------------------------------------------


@pytest.mark.parametrize("actor", ["owner", "admin"])
def test_owner_and_admin_list_only_open_invitations_of_the_household(world, as_, actor):
    household = world.home
    for status in ("accepted", "declined", "revoked"):
        InvitationFactory(household=household, status=status)
    InvitationFactory(household=household, expires_at=timezone.now() - timedelta(seconds=1))
    invitation = world.invitation

    response = as_(actor).get(household_url(household.pk, "invitations/"))

    assert response.status_code == 200, response.json()
    assert response.json() == [
        {
            "id": str(invitation.pk),
            "email": "invitee@example.com",
            "role": "member",
            "status": "pending",
            "invited_by": {"id": world.owner.pk, "email": world.owner.email},
            "created_at": iso(invitation.created_at),
            "expires_at": iso(invitation.expires_at),
        }
    ]


def test_member_cannot_list_invitations(world, as_):
    assert_forbidden(as_("member").get(household_url(world.home.pk, "invitations/")))


@pytest.mark.parametrize(("actor", "role"), [("owner", "admin"), ("owner", "member"), ("admin", "member")])
def test_owner_and_admin_invite_by_email(world, as_, actor, role):
    inviter = getattr(world, actor)

    response = as_(actor).post(
        household_url(world.home.pk, "invitations/"), {"email": " New.Person@Example.com ", "role": role}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    invitation = Invitation.objects.get(pk=body["id"])
    assert body == {
        "id": str(invitation.pk),
        "email": "new.person@example.com",
        "role": role,
        "status": "pending",
        "invited_by": {"id": inviter.pk, "email": inviter.email},
        "created_at": iso(invitation.created_at),
        "expires_at": iso(invitation.expires_at),
    }
    assert invitation.household_id == world.home.pk
    assert invitation.invited_by_id == inviter.pk
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert isinstance(invitation.pk, uuid.UUID)
    (message,) = mail.outbox  # the invitation, with its token (test_invitation_links.py)
    assert message.to == ["new.person@example.com"]
    # An invitation gives nothing until it is accepted.
    assert member_ids(world.home) == {
        world.owner.pk,
        world.admin.pk,
        world.editor.pk,
        world.viewer.pk,
        world.member.pk,
    }


def test_member_cannot_invite(world, as_):
    before = db_state()

    response = as_("member").post(
        household_url(world.home.pk, "invitations/"), {"email": "friend@example.com", "role": "member"}
    )

    assert_forbidden(response)
    assert db_state() == before


@pytest.mark.parametrize("actor", ["owner", "admin"])
@pytest.mark.parametrize("who", ["owner", "admin", "member"])
def test_inviting_a_current_member_is_400_already_member(world, as_, actor, who):
    before = db_state()
    email = getattr(world, who).email.upper()

    response = as_(actor).post(household_url(world.home.pk, "invitations/"), {"email": email})

    assert_error(response, 400, code="already_member", attr="email")
    assert db_state() == before


@pytest.mark.parametrize("email", ["invitee@example.com", "INVITEE@Example.com"])
def test_inviting_an_email_with_a_pending_invitation_is_400_already_invited(world, as_, email):
    before = db_state()

    response = as_("admin").post(household_url(world.home.pk, "invitations/"), {"email": email})

    assert_error(response, 400, code="already_invited", attr="email")
    assert db_state() == before


def test_a_pending_invitation_to_another_household_does_not_block_an_invite(world, as_):
    response = as_("owner").post(
        household_url(world.home.pk, "invitations/"), {"email": world.foreign_invitation.email}
    )

    assert response.status_code == 201, response.json()
    assert Invitation.objects.filter(email=world.foreign_invitation.email, status="pending").count() == 2


@pytest.mark.parametrize(
    ("data", "code", "attr"),
    [
        ({"email": "friend@example.com", "role": "owner"}, "invalid_choice", "role"),
        ({"email": "not-an-email"}, "invalid", "email"),
        ({"role": "member"}, "required", "email"),
    ],
)
def test_invite_rejects_invalid_input(world, as_, data, code, attr):
    before = db_state()

    response = as_("owner").post(household_url(world.home.pk, "invitations/"), data)

    assert_error(response, 400, code=code, attr=attr)
    assert db_state() == before


# --- households/{id}/invitations/{invitation_id}/ DELETE --------------------------------


@pytest.mark.parametrize("actor", ["owner", "admin"])
def test_owner_and_admin_revoke_an_invitation(world, as_, actor):
    url = household_url(world.home.pk, f"invitations/{world.invitation.pk}/")

    response = as_(actor).delete(url)

    assert response.status_code == 204
    assert response.content == b""
    invitation = Invitation.objects.get(pk=world.invitation.pk)
    assert invitation.status == InvitationStatus.REVOKED
    assert invitation.responded_at is not None
    assert as_(actor).get(household_url(world.home.pk, "invitations/")).json() == []
    assert as_("invitee").get(MY_INVITATIONS).json()["count"] == 0


def test_member_cannot_revoke_an_invitation(world, as_):
    before = db_state()

    assert_forbidden(
        as_("member").delete(household_url(world.home.pk, f"invitations/{world.invitation.pk}/"))
    )
    assert db_state() == before


@pytest.mark.parametrize("which", ["foreign", "not-a-uuid", "same-email-elsewhere"])
def test_revoking_an_unknown_or_foreign_invitation_is_404_like_a_missing_one(world, as_, which):
    same_email_elsewhere = InvitationFactory(household=world.elsewhere, email=world.invitation.email)
    invitation_id = {
        "foreign": world.foreign_invitation.pk,
        "not-a-uuid": "not-a-uuid",
        "same-email-elsewhere": same_email_elsewhere.pk,
    }[which]
    client = as_("owner")
    before = db_state()

    response = client.delete(household_url(world.home.pk, f"invitations/{invitation_id}/"))
    missing = client.delete(household_url(world.home.pk, f"invitations/{uuid.uuid4()}/"))

    assert_not_found(response)
    assert response.content == missing.content
    assert db_state() == before


def test_revoking_twice_is_409(world, as_):
    url = household_url(world.home.pk, f"invitations/{world.invitation.pk}/")
    assert as_("owner").delete(url).status_code == 204
    before = db_state()

    assert_error(as_("admin").delete(url), 409, code="invitation_revoked", attr=None)
    assert db_state() == before


# --- invitations/ (mine) ----------------------------------------------------------------


def test_invitee_lists_their_open_invitations_with_household_and_inviter(world, as_, client_for):
    invitee = world.invitee
    third = make_household(name="Third")
    for status in ("accepted", "declined", "revoked"):
        InvitationFactory(household=third, email=invitee.email, status=status)
    InvitationFactory(
        household=make_household(name="Stale"),
        email=invitee.email,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    invitation = world.invitation

    response = client_for(invitee).get(MY_INVITATIONS)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": str(invitation.pk),
            "household": {"id": world.home.pk, "name": "Home"},
            "email": "invitee@example.com",
            "role": "member",
            "status": "pending",
            "invited_by": {"id": world.owner.pk, "email": world.owner.email},
            "created_at": iso(invitation.created_at),
            "expires_at": iso(invitation.expires_at),
        }
    ]


@pytest.mark.parametrize("actor", ["owner", "admin", "member", "stranger"])
def test_nobody_sees_invitations_addressed_to_someone_else(world, as_, actor):
    response = as_(actor).get(MY_INVITATIONS)

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_anonymous_cannot_list_invitations(world, as_):
    assert_unauthenticated(as_("anonymous").get(MY_INVITATIONS))


# --- invitations/{id}/accept/ and decline/ ----------------------------------------------


@pytest.mark.parametrize("role", ["admin", "member"])
def test_invitee_accepts_and_becomes_a_member_with_the_invited_role(world, client_for, role):
    invitation = world.invitation
    Invitation.objects.filter(pk=invitation.pk).update(role=role)
    invitee = world.invitee

    response = client_for(invitee).post(invitation_url(invitation.pk, "accept/"))

    assert response.status_code == 200, response.json()
    membership = Membership.objects.get(household=world.home, user=invitee)
    assert response.json() == {
        "household": {"id": world.home.pk, "name": "Home"},
        "user": user_body(invitee),
        "role": role,
        "joined_at": iso(membership.joined_at),
    }
    assert membership.role == role
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.responded_at is not None
    assert group_user_ids(world.home) == member_ids(world.home)
    assert invitee.pk in group_user_ids(world.home)
    assert owners(world.home) == [world.owner.pk]
    assert client_for(invitee).get(household_url(world.home.pk)).json()["my_role"] == role


def test_invitee_declines_and_joins_nothing(world, client_for):
    response = client_for(world.invitee).post(invitation_url(world.invitation.pk, "decline/"))

    assert response.status_code == 204
    assert response.content == b""
    invitation = Invitation.objects.get(pk=world.invitation.pk)
    assert invitation.status == InvitationStatus.DECLINED
    assert invitation.responded_at is not None
    assert world.invitee.pk not in member_ids(world.home)
    assert world.invitee.pk not in group_user_ids(world.home)
    assert client_for(world.invitee).get(MY_INVITATIONS).json()["count"] == 0


@pytest.mark.parametrize("answer", ["accept/", "decline/"])
@pytest.mark.parametrize("actor", ["owner", "admin", "member", "stranger"])
def test_only_the_invitee_may_answer_others_get_404_like_a_missing_invitation(world, as_, actor, answer):
    client = as_(actor)
    before = db_state()

    response = client.post(invitation_url(world.invitation.pk, answer))
    missing = client.post(invitation_url(uuid.uuid4(), answer))

    assert_not_found(response)
    assert response.content == missing.content
    assert db_state() == before


@pytest.mark.parametrize("answer", ["accept/", "decline/"])
def test_answering_a_malformed_invitation_id_is_404_like_a_missing_one(world, client_for, answer):
    client = client_for(world.invitee)

    malformed = client.post(invitation_url("not-a-uuid", answer))
    missing = client.post(invitation_url(uuid.uuid4(), answer))

    assert_not_found(malformed)
    assert malformed.content == missing.content


@pytest.mark.parametrize("answer", ["accept/", "decline/"])
def test_anonymous_cannot_answer_an_invitation(world, as_, answer):
    before = db_state()

    assert_unauthenticated(as_("anonymous").post(invitation_url(world.invitation.pk, answer)))
    assert db_state() == before


# --- query counts -----------------------------------------------------------------------

# Authentication (the user row), the page count and the page itself; it must not grow with rows.
LIST_QUERIES = 3


@pytest.mark.parametrize("size", [1, 20])
def test_household_list_queries_do_not_grow_with_households(client_for, django_assert_max_num_queries, size):
    user = UserFactory()
    expected = {}
    for n in range(size):
        if n % 2:
            household = make_household(name=f"House {n}", members=[user, UserFactory()])
            expected[household.pk] = ("member", 3)
        else:
            household = make_household(user, name=f"House {n}", admins=[UserFactory()])
            expected[household.pk] = ("owner", 2)
    make_household(name="Foreign", members=[UserFactory()])
    client = client_for(user)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(HOUSEHOLDS)

    body = response.json()
    assert body["count"] == size
    assert {item["id"]: (item["my_role"], item["member_count"]) for item in body["results"]} == expected


@pytest.mark.parametrize("size", [1, 20])
def test_member_list_queries_do_not_grow_with_members(client_for, django_assert_max_num_queries, size):
    owner = UserFactory()
    household = make_household(owner, members=[UserFactory() for _ in range(size - 1)])
    client = client_for(owner)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(household_url(household.pk, "members/"))

    assert len(response.json()) == size


@pytest.mark.parametrize("size", [1, 20])
def test_invitation_list_queries_do_not_grow_with_invitations(
    client_for, django_assert_max_num_queries, size
):
    invitee = UserFactory()
    for n in range(size):
        InvitationFactory(household=make_household(name=f"House {n}"), email=invitee.email)
    client = client_for(invitee)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(MY_INVITATIONS)

    assert response.json()["count"] == size
    assert {item["household"]["name"] for item in response.json()["results"]} == {
        f"House {n}" for n in range(size)
    }


@pytest.mark.parametrize("size", [1, 20])
def test_household_invitation_list_queries_do_not_grow(client_for, django_assert_max_num_queries, size):
    owner = UserFactory()
    household = make_household(owner)
    for _ in range(size):
        InvitationFactory(household=household, invited_by=owner)
    client = client_for(owner)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(household_url(household.pk, "invitations/"))

    assert len(response.json()) == size
    assert {item["invited_by"]["id"] for item in response.json()} == {owner.pk}
