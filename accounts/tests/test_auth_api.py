import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"
PASSWORD = "/api/v1/auth/password/"


def login(client, email, password=DEFAULT_PASSWORD):
    return client.post(TOKEN, {"email": email, "password": password})


def bearer(client, access):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


ME_FIELDS = {"id", "email", "email_verified", "pending_email", "first_name", "last_name", "date_joined"}


def test_routes_are_named_as_documented():
    assert reverse("auth-register") == REGISTER
    assert reverse("auth-token") == TOKEN


def test_register_creates_user_with_normalised_email(anon):
    response = anon.post(
        REGISTER,
        {"email": "  Ada.Lovelace@Example.COM ", "password": "analytical-engine-1843", "first_name": "Ada"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == ME_FIELDS
    assert body["email"] == "ada.lovelace@example.com"
    assert (body["email_verified"], body["pending_email"]) == (False, None)
    assert body["first_name"] == "Ada" and body["last_name"] == ""
    user = User.objects.get(pk=body["id"])
    assert user.check_password("analytical-engine-1843")
    assert "password" not in body


def test_register_taken_email_is_400_unique_regardless_of_case(anon):
    UserFactory(email="taken@example.com")
    response = anon.post(REGISTER, {"email": "TAKEN@example.com", "password": "analytical-engine-1843"})
    assert_error(response, 400, code="unique", attr="email")
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


@pytest.mark.parametrize(
    ("password", "code"),
    [("short", "password_too_short"), ("password123", "password_too_common"), ("83729104857", None)],
)
def test_register_applies_password_validators(anon, password, code):
    response = anon.post(REGISTER, {"email": "new@example.com", "password": password})
    body = assert_error(response, 400, attr="password")
    assert body["type"] == "validation_error"
    assert not User.objects.filter(email="new@example.com").exists()


def test_register_password_similar_to_email_is_refused(anon):
    response = anon.post(REGISTER, {"email": "margaretjohnson@example.com", "password": "margaretjohnson"})
    assert_error(response, 400, attr="password")


def test_register_requires_email_and_password(anon):
    body = assert_error(anon.post(REGISTER, {}), 400, code="required")
    assert {e["attr"] for e in body["errors"]} == {"email", "password"}


def test_login_returns_token_pair_and_me_works(anon):
    UserFactory(email="grace@example.com")
    response = login(anon, "Grace@Example.com")
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    me = bearer(anon, tokens["access"]).get(ME)
    assert me.status_code == 200
    assert me.json()["email"] == "grace@example.com"
    assert set(me.json()) == ME_FIELDS


def test_wrong_password_and_unknown_email_fail_identically(anon):
    UserFactory(email="grace@example.com")
    wrong = login(anon, "grace@example.com", "not-the-password")
    unknown = login(anon, "nobody@example.com", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content
    assert_error(wrong, 401, code="no_active_account")


def test_inactive_user_cannot_log_in(anon):
    UserFactory(email="gone@example.com", is_active=False)
    assert_error(login(anon, "gone@example.com"), 401, code="no_active_account")


def test_refresh_rotates_and_old_refresh_is_rejected(anon):
    UserFactory(email="r@example.com")
    tokens = login(anon, "r@example.com").json()
    first = anon.post(REFRESH, {"refresh": tokens["refresh"]})
    assert first.status_code == 200
    rotated = first.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != tokens["refresh"]
    assert bearer(anon, rotated["access"]).get(ME).status_code == 200
    reused = anon.post(REFRESH, {"refresh": tokens["refresh"]})
    assert_error(reused, 401, code="token_not_valid")
    assert anon.post(REFRESH, {"refresh": rotated["refresh"]}).status_code == 200


def test_logout_blacklists_refresh(anon):
    UserFactory(email="l@example.com")
    tokens = login(anon, "l@example.com").json()
    response = anon.post(LOGOUT, {"refresh": tokens["refresh"]})
    assert response.status_code == 204
    assert response.content == b""
    assert_error(anon.post(REFRESH, {"refresh": tokens["refresh"]}), 401, code="token_not_valid")


def test_logout_with_garbage_token_is_401(anon):
    assert_error(anon.post(LOGOUT, {"refresh": "garbage"}), 401, code="token_not_valid")


def test_patch_me_updates_names_at_once_and_the_email_once_confirmed(api):
    """test_email_verification.py follows the new address's link to the end."""
    before = api.user.email
    response = api.patch(
        ME, {"first_name": "Alan", "email": "ALAN@example.com", "current_password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["pending_email"]) == (before, "alan@example.com")
    api.user.refresh_from_db()
    assert api.user.first_name == "Alan"
    assert (api.user.email, api.user.pending_email) == (before, "alan@example.com")


def test_patch_me_cannot_take_another_users_email(api):
    UserFactory(email="other@example.com")
    before = api.user.email
    assert_error(api.patch(ME, {"email": "Other@Example.com"}), 400, code="unique", attr="email")
    api.user.refresh_from_db()
    assert api.user.email == before


def test_patch_me_keeping_own_email_is_fine(api):
    response = api.patch(ME, {"email": api.user.email.upper()})
    assert response.status_code == 200


def test_patch_me_ignores_read_only_fields(api):
    response = api.patch(ME, {"id": 999999, "date_joined": "2000-01-01T00:00:00Z", "is_staff": True})
    assert response.status_code == 200
    api.user.refresh_from_db()
    assert api.user.pk != 999999
    assert api.user.is_staff is False
    assert api.user.date_joined.year != 2000


def test_password_change_returns_fresh_pair_and_revokes_old_tokens(anon):
    UserFactory(email="p@example.com")
    old = login(anon, "p@example.com").json()
    older_refresh = anon.post(REFRESH, {"refresh": old["refresh"]}).json()
    response = bearer(anon, older_refresh["access"]).post(
        PASSWORD, {"old_password": DEFAULT_PASSWORD, "new_password": "a-brand-new-passphrase-7"}
    )
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    # Everything issued before is dead: both access tokens and the live refresh token.
    assert_error(bearer(anon, older_refresh["access"]).get(ME), 401)
    assert_error(bearer(anon, old["access"]).get(ME), 401)
    anon.credentials()
    assert_error(anon.post(REFRESH, {"refresh": older_refresh["refresh"]}), 401)
    # The new pair works, and so does the new password.
    assert bearer(anon, fresh["access"]).get(ME).status_code == 200
    anon.credentials()
    assert anon.post(REFRESH, {"refresh": fresh["refresh"]}).status_code == 200
    assert login(anon, "p@example.com", "a-brand-new-passphrase-7").status_code == 200
    assert login(anon, "p@example.com").status_code == 401


def test_password_change_with_wrong_old_password_is_400(api):
    response = api.post(PASSWORD, {"old_password": "nope", "new_password": "a-brand-new-passphrase-7"})
    assert_error(response, 400, code="wrong_password", attr="old_password")
    api.user.refresh_from_db()
    assert api.user.check_password(DEFAULT_PASSWORD)


def test_password_change_validates_new_password(api):
    response = api.post(PASSWORD, {"old_password": DEFAULT_PASSWORD, "new_password": "123"})
    assert_error(response, 400, attr="new_password")
    api.user.refresh_from_db()
    assert api.user.check_password(DEFAULT_PASSWORD)


def test_password_change_requires_authentication(anon):
    assert_error(anon.post(PASSWORD, {"old_password": "x", "new_password": "y"}), 401)
