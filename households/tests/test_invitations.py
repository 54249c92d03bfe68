"""An invitation's life: created, listed, answered once, revoked, expired with the clock."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.fields import DateTimeField

from accounts.models import User
from accounts.tests.factories import UserFactory
from households.models import Invitation, InvitationStatus, Membership
from households.tests.factories import add_member
from households.tests.helpers import API, db_state, group_user_ids, household_url, invitation_url, member_ids
from server.tests.helpers import assert_error, token_in

pytestmark = pytest.mark.django_db

MY_INVITATIONS = f"{API}/invitations/"


def invite(client, household, email: str, role: str = "member") -> Invitation:
    response = client.post(household_url(household.pk, "invitations/"), {"email": email, "role": role})
    assert response.status_code == 201, response.json()
    return Invitation.objects.get(pk=response.json()["id"])


def listed_ids(client) -> list[str]:
    body = client.get(MY_INVITATIONS).json()
    assert body["count"] == len(body["results"])
    return [item["id"] for item in body["results"]]


def household_listed_ids(client, household) -> list[str]:
    return [item["id"] for item in client.get(household_url(household.pk, "invitations/")).json()]


def assert_only_expired(invitation: Invitation, before: dict) -> None:
    """Nothing changed, except that the invitation may now be recorded as expired."""
    after = db_state()
    assert {k: v for k, v in after.items() if k != "invitations"} == {
        k: v for k, v in before.items() if k != "invitations"
    }
    assert [row for row in after["invitations"] if row[0] != str(invitation.pk)] == [
        row for row in before["invitations"] if row[0] != str(invitation.pk)
    ]
    invitation.refresh_from_db()
    assert invitation.effective_status == InvitationStatus.EXPIRED
    assert invitation.responded_at is None


# --- expiry -----------------------------------------------------------------------------


def test_invitation_is_open_until_it_expires_then_unlisted_and_accept_is_409(world, client_for):
    household, owner, newcomer = world.home, world.owner, UserFactory(email="newcomer@example.com")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        invitation = invite(client_for(owner), household, newcomer.email)
        assert invitation.expires_at == timezone.now() + timedelta(days=7)

        clock.shift(timedelta(days=7) - timedelta(seconds=1))
        assert listed_ids(client_for(newcomer)) == [str(invitation.pk)]
        assert str(invitation.pk) in household_listed_ids(client_for(owner), household)

        clock.shift(timedelta(seconds=1))
        newcomer_client, owner_client = client_for(newcomer), client_for(owner)
        assert listed_ids(newcomer_client) == []
        assert household_listed_ids(owner_client, household) == []
        before = db_state()

        response = newcomer_client.post(invitation_url(invitation.pk, "accept/"))

        assert_error(response, 409, code="invitation_expired", attr=None)
        assert_only_expired(invitation, before)
    assert newcomer.pk not in member_ids(household)
    assert newcomer.pk not in group_user_ids(household)


def test_expired_invitation_cannot_be_declined_or_revoked(world, client_for):
    household, owner, newcomer = world.home, world.owner, UserFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        invitation = invite(client_for(owner), household, newcomer.email)
        clock.shift(timedelta(days=8))
        before = db_state()

        declined = client_for(newcomer).post(invitation_url(invitation.pk, "decline/"))
        revoked = client_for(owner).delete(household_url(household.pk, f"invitations/{invitation.pk}/"))

        assert_error(declined, 409, code="invitation_expired", attr=None)
        assert_error(revoked, 409, code="invitation_expired", attr=None)
        assert_only_expired(invitation, before)


def test_an_expired_invitation_does_not_block_a_new_one(world, client_for):
    household, owner, newcomer = world.home, world.owner, UserFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = invite(client_for(owner), household, newcomer.email)
        clock.shift(timedelta(days=7, seconds=1))

        second = invite(client_for(owner), household, newcomer.email)
        response = client_for(newcomer).post(invitation_url(second.pk, "accept/"))

    assert response.status_code == 200, response.json()
    assert Invitation.objects.get(pk=first.pk).status == InvitationStatus.EXPIRED
    assert Invitation.objects.get(pk=second.pk).status == InvitationStatus.ACCEPTED
    assert newcomer.pk in member_ids(household) and newcomer.pk in group_user_ids(household)


@pytest.mark.parametrize("days", [1, 30])
def test_invitation_ttl_follows_the_setting(world, client_for, settings, days):
    settings.INVITATION_TTL_DAYS = days
    household, owner, newcomer = world.home, world.owner, UserFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        response = client_for(owner).post(
            household_url(household.pk, "invitations/"), {"email": newcomer.email}
        )
        assert response.status_code == 201, response.json()
        invitation = Invitation.objects.get(pk=response.json()["id"])
        assert invitation.expires_at == timezone.now() + timedelta(days=days)
        assert response.json()["expires_at"] == DateTimeField().to_representation(invitation.expires_at)

        clock.shift(timedelta(days=days) - timedelta(seconds=1))
        assert listed_ids(client_for(newcomer)) == [str(invitation.pk)]
        clock.shift(timedelta(seconds=1))
        assert listed_ids(client_for(newcomer)) == []
        expired = client_for(newcomer).post(invitation_url(invitation.pk, "accept/"))

    assert_error(expired, 409, code="invitation_expired", attr=None)


# --- who may answer ---------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["accept/", "decline/"])
def test_wrong_user_gets_404_with_the_same_body_as_a_missing_invitation(world, client_for, answer):
    # Someone with an open invitation of their own, to the same household, still cannot
    # answer someone else's.
    other = UserFactory(email="other@example.com")
    invite(client_for(world.owner), world.home, other.email)
    client = client_for(other)
    before = db_state()

    wrong_user = client.post(invitation_url(world.invitation.pk, answer))
    missing = client.post(invitation_url(uuid.uuid4(), answer))

    assert_error(wrong_user, 404, code="not_found", attr=None)
    assert wrong_user.content == missing.content
    assert db_state() == before


def test_invitation_follows_the_email_not_whoever_held_it(world, client_for):
    """The invitation is for an address: once the invitee changes their email it is no
    longer theirs, and whoever then owns the invited address is the one it names."""
    invitee = world.invitee
    User.objects.filter(pk=invitee.pk).update(email="moved@example.com")
    invitee.refresh_from_db()

    assert_error(
        client_for(invitee).post(invitation_url(world.invitation.pk, "accept/")), 404, code="not_found"
    )
    assert invitee.pk not in member_ids(world.home)


# --- answered once ----------------------------------------------------------------------


def test_accepting_twice_is_409_and_leaves_one_membership(world, client_for):
    client = client_for(world.invitee)
    assert client.post(invitation_url(world.invitation.pk, "accept/")).status_code == 200
    before = db_state()

    again = client.post(invitation_url(world.invitation.pk, "accept/"))
    decline = client.post(invitation_url(world.invitation.pk, "decline/"))

    assert_error(again, 409, code="invitation_accepted", attr=None)
    assert_error(decline, 409, code="invitation_accepted", attr=None)
    assert db_state() == before
    assert Membership.objects.filter(household=world.home, user=world.invitee).count() == 1


def test_revoked_invitation_cannot_be_accepted(world, client_for):
    revoke = client_for(world.admin).delete(
        household_url(world.home.pk, f"invitations/{world.invitation.pk}/")
    )
    assert revoke.status_code == 204
    client = client_for(world.invitee)
    assert listed_ids(client) == []
    before = db_state()

    response = client.post(invitation_url(world.invitation.pk, "accept/"))

    assert_error(response, 409, code="invitation_revoked", attr=None)
    assert db_state() == before
    assert world.invitee.pk not in member_ids(world.home)
    assert world.invitee.pk not in group_user_ids(world.home)


def test_declined_invitation_cannot_be_accepted_or_revoked(world, client_for):
    client = client_for(world.invitee)
    assert client.post(invitation_url(world.invitation.pk, "decline/")).status_code == 204
    assert Invitation.objects.get(pk=world.invitation.pk).status == InvitationStatus.DECLINED
    before = db_state()

    accept = client.post(invitation_url(world.invitation.pk, "accept/"))
    revoke = client_for(world.owner).delete(
        household_url(world.home.pk, f"invitations/{world.invitation.pk}/")
    )

    assert_error(accept, 409, code="invitation_declined", attr=None)
    assert_error(revoke, 409, code="invitation_declined", attr=None)
    assert db_state() == before
    assert world.invitee.pk not in member_ids(world.home)


def test_declined_invitee_can_be_invited_again(world, client_for):
    client_for(world.invitee).post(invitation_url(world.invitation.pk, "decline/"))

    again = invite(client_for(world.owner), world.home, world.invitee.email, role="admin")

    assert listed_ids(client_for(world.invitee)) == [str(again.pk)]


def test_accepting_when_already_a_member_is_409(world, client_for):
    """Someone who joined by another route since being invited."""
    add_member(world.home, world.invitee)
    before = db_state()

    response = client_for(world.invitee).post(invitation_url(world.invitation.pk, "accept/"))

    assert_error(response, 409, code="already_member", attr=None)
    assert db_state() == before


# --- email case -------------------------------------------------------------------------


def test_invitation_email_is_case_insensitive(world, client_for):
    bob = User.objects.create_user(
        "bob@example.com", "correct-horse-battery-9", email_verified_at=world.invitation.created_at
    )

    invitation = invite(client_for(world.owner), world.home, "Bob@Example.com", role="admin")

    assert invitation.email == "bob@example.com"
    bob_client = client_for(bob)
    body = bob_client.get(MY_INVITATIONS).json()
    assert [(item["id"], item["email"], item["household"]["name"]) for item in body["results"]] == [
        (str(invitation.pk), "bob@example.com", "Home")
    ]
    duplicate = client_for(world.admin).post(
        household_url(world.home.pk, "invitations/"), {"email": "BOB@EXAMPLE.COM"}
    )
    assert_error(duplicate, 400, code="already_invited", attr="email")

    response = bob_client.post(invitation_url(invitation.pk, "accept/"))

    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "admin"
    assert bob.pk in member_ids(world.home) and bob.pk in group_user_ids(world.home)
    member_again = client_for(world.owner).post(
        household_url(world.home.pk, "invitations/"), {"email": "BOB@example.COM"}
    )
    assert_error(member_again, 400, code="already_member", attr="email")


def test_user_registered_with_mixed_case_email_sees_their_invitation(world, client_for, anon):
    invitation = invite(client_for(world.owner), world.home, "carol@example.com")
    response = anon.post(
        f"{API}/auth/register/", {"email": "Carol@EXAMPLE.com", "password": "analytical-engine-1843"}
    )
    assert response.status_code == 201, response.json()
    carol = User.objects.get(pk=response.json()["id"])
    assert listed_ids(client_for(carol)) == []  # not until the address is proven
    welcome = next(m for m in mail.outbox if m.to == ["carol@example.com"] and "Welcome" in m.subject)
    assert anon.post(f"{API}/auth/email/verify/", {"token": token_in(welcome)}).status_code == 200

    assert listed_ids(client_for(carol)) == [str(invitation.pk)]
    assert client_for(carol).post(invitation_url(invitation.pk, "decline/")).status_code == 204
