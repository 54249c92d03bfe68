"""The households routes answer what the OpenAPI schema says they answer: regressions for the
defects schemathesis found (server/tests/test_schemathesis.py)."""

import pytest

from households.models import InvitationStatus
from households.tests.factories import InvitationFactory, make_household
from households.tests.helpers import db_state, household_url, invitation_url
from server.tests.helpers import assert_error
from server.tests.openapi_helpers import assert_documented

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"
TOO_BIG = 2**70  # no database integer holds it


@pytest.mark.parametrize("name", [-1362, 7.5, True, ["Home"]])
def test_household_name_is_taken_only_as_a_string(as_, name):
    """Found by schemathesis: {"name": -1362} created a household called "-1362"."""
    before = db_state()
    response = as_("owner").post(HOUSEHOLDS, {"name": name}, format="json")
    body = assert_error(response, 400, attr="name")
    assert body["type"] == "validation_error"
    assert db_state() == before
    assert_documented(response, "post", HOUSEHOLDS)


def test_household_name_longer_than_allowed_is_refused_even_when_padded(as_):
    """Found by schemathesis (stateful run): 100 characters plus leading whitespace passed,
    as DRF checks the length after trimming; the schema's maxLength is 100 as sent."""
    before = db_state()
    response = as_("owner").post(HOUSEHOLDS, {"name": "\n   " + "x" * 99}, format="json")
    assert_error(response, 400, code="max_length", attr="name")
    assert db_state() == before
    assert_documented(response, "post", HOUSEHOLDS)
    kept = as_("owner").post(HOUSEHOLDS, {"name": "  " + "x" * 98}, format="json")
    assert kept.status_code == 201
    assert kept.json()["name"] == "x" * 98


def test_invitation_email_is_taken_only_as_a_string(world, as_):
    before = db_state()
    response = as_("owner").post(household_url(world.home.pk, "invitations/"), {"email": 5}, format="json")
    assert_error(response, 400, code="invalid", attr="email")
    assert db_state() == before


@pytest.mark.parametrize("method", ["delete", "patch"])
def test_member_id_too_large_for_the_database_is_404(world, as_, method):
    """Found by schemathesis (stateful run): on SQLite a member id past 64 bits was a 500."""
    before = db_state()
    url = household_url(world.home.pk, f"members/{TOO_BIG}/")
    response = getattr(as_("owner"), method)(url, {"role": "admin"}, format="json")
    assert_error(response, 404, code="not_found", attr=None)
    assert db_state() == before
    assert_documented(response, method, "/api/v1/households/{id}/members/{user_id}/")


def test_owner_leaving_a_household_with_members_is_a_documented_409(world, as_):
    """Found by schemathesis: the 409s of leave, accept, decline and revoke were not in the schema."""
    response = as_("owner").post(household_url(world.home.pk, "leave/"))
    assert_error(response, 409, code="owner_must_transfer", attr=None)
    assert_documented(response, "post", "/api/v1/households/{id}/leave/")


def test_accepting_an_invitation_twice_is_a_documented_409(world, client_for):
    invitee = client_for(world.invitee)
    assert invitee.post(invitation_url(world.invitation.pk, "accept/")).status_code == 200
    response = invitee.post(invitation_url(world.invitation.pk, "accept/"))
    assert_error(response, 409, code="invitation_accepted", attr=None)
    assert_documented(response, "post", "/api/v1/invitations/{id}/accept/")


def test_accepting_into_a_household_you_are_in_is_a_documented_409(world, client_for):
    invitation = InvitationFactory(household=world.home, email=world.member.email)
    response = client_for(world.member).post(invitation_url(invitation.pk, "accept/"))
    assert_error(response, 409, code="already_member", attr=None)
    assert_documented(response, "post", "/api/v1/invitations/{id}/accept/")


def test_declining_a_declined_invitation_is_a_documented_409(world, client_for):
    world.invitation.status = InvitationStatus.DECLINED
    world.invitation.save(update_fields=["status"])
    response = client_for(world.invitee).post(invitation_url(world.invitation.pk, "decline/"))
    assert_error(response, 409, code="invitation_declined", attr=None)
    assert_documented(response, "post", "/api/v1/invitations/{id}/decline/")


def test_revoking_a_revoked_invitation_is_a_documented_409(world, as_):
    url = household_url(world.home.pk, f"invitations/{world.invitation.pk}/")
    assert as_("owner").delete(url).status_code == 204
    response = as_("owner").delete(url)
    assert_error(response, 409, code="invitation_revoked", attr=None)
    assert_documented(response, "delete", "/api/v1/households/{id}/invitations/{invitation_id}/")


def test_owner_demoting_themselves_is_documented(world, as_):
    url = household_url(world.home.pk, f"members/{world.owner.pk}/")
    response = as_("owner").patch(url, {"role": "admin"})
    assert_error(response, 400, code="owner_cannot_demote_self", attr="role")
    assert_documented(response, "patch", "/api/v1/households/{id}/members/{user_id}/")


@pytest.mark.parametrize(
    ("who", "code"), [("member", "already_member"), ("invitee", "already_invited")], ids=["member", "invited"]
)
def test_inviting_a_member_or_an_invitee_again_is_documented(world, as_, who, code):
    email = getattr(world, who).email
    response = as_("owner").post(household_url(world.home.pk, "invitations/"), {"email": email})
    assert_error(response, 400, code=code, attr="email")
    assert_documented(response, "post", "/api/v1/households/{id}/invitations/")


def test_household_list_with_an_unreadable_page_is_documented(world, as_):
    response = as_("owner").get(HOUSEHOLDS, {"limit": "many"})
    assert_error(response, 400, code="invalid", attr="limit")
    assert_documented(response, "get", HOUSEHOLDS)


def test_a_solo_household_still_lists(world, client_for):
    solo = make_household(world.stranger, name="Solo")
    response = client_for(world.stranger).get(HOUSEHOLDS, {"limit": ""})
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {solo.pk, world.elsewhere.pk}
