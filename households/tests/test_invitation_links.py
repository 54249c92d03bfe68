"""Invitations bind to the mailbox they were sent to: the link's token, or a verified account
email equal to the invitation's address. The takeover that used to work (claim the invited
address without proving it, then accept) is the first test."""

import pytest
from django.core import mail

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from households.models import InvitationStatus, Membership, Role
from households.tests.factories import InvitationFactory, make_household
from server.tests.helpers import assert_error, token_in

pytestmark = pytest.mark.django_db

INVITATIONS = "/api/v1/invitations/"
ACCEPT_BY_TOKEN = "/api/v1/invitations/accept/"
DECLINE_BY_TOKEN = "/api/v1/invitations/decline/"
ME = "/api/v1/auth/me/"


def invite(client_for, household, email, role="member"):
    owner = household.memberships.get(role=Role.OWNER).user
    mail.outbox.clear()
    response = client_for(owner).post(
        f"/api/v1/households/{household.pk}/invitations/", {"email": email, "role": role}
    )
    assert response.status_code == 201, response.content
    (message,) = mail.outbox
    return response.json()["id"], message


@pytest.mark.parametrize("route", ["register", "change"])
def test_claiming_an_invited_address_without_proving_it_reaches_no_invitation(anon, client_for, route):
    household = make_household(name="Target")
    invitation_id, _ = invite(client_for, household, "victim@example.com", role="admin")
    if route == "register":
        response = anon.post(
            "/api/v1/auth/register/", {"email": "VICTIM@example.com", "password": "a-long-enough-secret-9"}
        )
        assert response.status_code == 201
        attacker = User.objects.get(email="victim@example.com")
    else:
        attacker = UserFactory(email="attacker@example.com")
        response = client_for(attacker).patch(
            ME, {"email": "victim@example.com", "current_password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        assert response.json()["email"] == "attacker@example.com"  # only pending
    client = client_for(attacker)
    assert client.get(INVITATIONS).json()["results"] == []
    for answer in ("accept", "decline"):
        missing = client.post(f"{INVITATIONS}{invitation_id}/{answer}/")
        unknown = client.post(f"{INVITATIONS}00000000-0000-0000-0000-000000000000/{answer}/")
        assert missing.status_code == 404 and missing.json() == unknown.json()
    assert not Membership.objects.filter(user=attacker).exists()
    assert household.invitations.get(pk=invitation_id).status == InvitationStatus.PENDING


def test_the_mailbox_that_got_the_invitation_joins_with_its_token(anon, client_for):
    household = make_household(name="Home")
    _, message = invite(client_for, household, "guest@example.com", role="admin")
    assert message.to == ["guest@example.com"]
    assert "Home" in message.subject and "as admin" in message.body
    guest = UserFactory(email="guest@example.com", email_verified_at=None)
    response = client_for(guest).post(ACCEPT_BY_TOKEN, {"token": token_in(message)})
    assert response.status_code == 200, response.content
    assert response.json()["household"]["name"] == "Home" and response.json()["role"] == "admin"
    guest.refresh_from_db()
    assert guest.email_verified  # the token proved the address
    assert household.group.user_set.filter(pk=guest.pk).exists()


def test_the_token_works_from_an_account_with_another_address(client_for):
    household = make_household()
    _, message = invite(client_for, household, "work@example.com")
    home_account = UserFactory(email="home@example.com", email_verified_at=None)
    response = client_for(home_account).post(ACCEPT_BY_TOKEN, {"token": token_in(message)})
    assert response.status_code == 200
    home_account.refresh_from_db()
    assert not home_account.email_verified  # it proved work@, not home@


def test_an_invitation_token_works_once(client_for):
    household = make_household()
    _, message = invite(client_for, household, "guest@example.com")
    token = token_in(message)
    assert client_for(UserFactory()).post(ACCEPT_BY_TOKEN, {"token": token}).status_code == 200
    again = client_for(UserFactory()).post(ACCEPT_BY_TOKEN, {"token": token})
    assert_error(again, 409, "invitation_accepted")
    assert_error(
        client_for(UserFactory()).post(DECLINE_BY_TOKEN, {"token": token}), 409, "invitation_accepted"
    )


@pytest.mark.parametrize("token", ["", "garbage", "a" * 1001])
def test_a_bad_invitation_token_is_refused(client_for, anon, token):
    code = {"": "blank", "garbage": "token_invalid"}.get(token, "max_length")
    assert_error(client_for(UserFactory()).post(ACCEPT_BY_TOKEN, {"token": token}), 400, code, attr="token")
    assert_error(anon.post(DECLINE_BY_TOKEN, {"token": token}), 400, code, attr="token")


def test_a_tampered_invitation_token_is_token_invalid(client_for):
    household = make_household()
    _, message = invite(client_for, household, "guest@example.com")
    token = token_in(message)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_error(client_for(UserFactory()).post(ACCEPT_BY_TOKEN, {"token": tampered}), 400, "token_invalid")
    assert household.invitations.get().status == InvitationStatus.PENDING


def test_a_token_of_a_revoked_invitation_is_refused(client_for):
    household = make_household()
    invitation_id, message = invite(client_for, household, "guest@example.com")
    owner = household.memberships.get(role=Role.OWNER).user
    client_for(owner).delete(f"/api/v1/households/{household.pk}/invitations/{invitation_id}/")
    response = client_for(UserFactory()).post(ACCEPT_BY_TOKEN, {"token": token_in(message)})
    assert_error(response, 409, "invitation_revoked")


def test_declining_by_token_needs_no_account(anon, client_for):
    household = make_household()
    _, message = invite(client_for, household, "guest@example.com")
    assert anon.post(DECLINE_BY_TOKEN, {"token": token_in(message)}).status_code == 204
    assert household.invitations.get().status == InvitationStatus.DECLINED


def test_accepting_by_token_needs_a_sign_in(anon, client_for):
    household = make_household()
    _, message = invite(client_for, household, "guest@example.com")
    assert_error(anon.post(ACCEPT_BY_TOKEN, {"token": token_in(message)}), 401)


def test_a_verified_account_with_the_invited_address_sees_and_accepts_by_id(client_for):
    invitation = InvitationFactory(email="guest@example.com")
    guest = UserFactory(email="guest@example.com")
    listed = client_for(guest).get(INVITATIONS).json()["results"]
    assert [item["id"] for item in listed] == [str(invitation.pk)]
    response = client_for(guest).post(f"{INVITATIONS}{invitation.pk}/accept/")
    assert response.status_code == 200


def test_an_unverified_account_sees_no_invitation_until_it_verifies(client_for):
    invitation = InvitationFactory(email="guest@example.com")
    guest = UserFactory(email="guest@example.com", email_verified_at=None)
    assert client_for(guest).get(INVITATIONS).json()["results"] == []
    guest.email_verified_at = invitation.created_at
    guest.save()
    assert len(client_for(guest).get(INVITATIONS).json()["results"]) == 1


# Roles: only the owner makes admins ----------------------------------------------------------


def test_an_admin_invites_members_but_not_admins(client_for):
    admin = UserFactory()
    household = make_household(admins=[admin])
    path = f"/api/v1/households/{household.pk}/invitations/"
    refused = client_for(admin).post(path, {"email": "friend@example.com", "role": "admin"})
    body = assert_error(refused, 403, "only_owner_invites_admins", attr=None)
    assert "owner" in body["errors"][0]["detail"]
    assert not household.invitations.exists() and mail.outbox == []
    assert client_for(admin).post(path, {"email": "friend@example.com", "role": "member"}).status_code == 201


def test_an_admin_cannot_make_an_admin_by_removing_and_reinviting(client_for):
    admin, member = UserFactory(), UserFactory()
    household = make_household(admins=[admin], members=[member])
    client = client_for(admin)
    assert client.delete(f"/api/v1/households/{household.pk}/members/{member.pk}/").status_code == 204
    refused = client.post(
        f"/api/v1/households/{household.pk}/invitations/", {"email": member.email, "role": "admin"}
    )
    assert_error(refused, 403, "only_owner_invites_admins")
    promote = client.patch(f"/api/v1/households/{household.pk}/members/{admin.pk}/", {"role": "owner"})
    assert_error(promote, 403, "only_owner_changes_roles")
    assert not household.memberships.filter(role=Role.ADMIN).exclude(user=admin).exists()


def test_the_owner_invites_an_admin(client_for):
    household = make_household()
    _, message = invite(client_for, household, "deputy@example.com", role="admin")
    deputy = UserFactory(email="deputy@example.com")
    client_for(deputy).post(ACCEPT_BY_TOKEN, {"token": token_in(message)})
    assert household.memberships.get(user=deputy).role == Role.ADMIN
