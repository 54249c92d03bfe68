"""The negative JWT set: every way a token can be wrong is a 401 with the standard body.

Each case also checks the pair: the same request with a good token succeeds, so a
401 here means the token was refused, not that the endpoint is broken.
"""

import datetime as dt

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"
PASSWORD = "/api/v1/auth/password/"


@pytest.fixture
def person(db):
    return UserFactory(email="jwt@example.com")


@pytest.fixture
def tokens(anon, person):
    response = anon.post(TOKEN, {"email": person.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def me_with(client, access):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    try:
        return client.get(ME)
    finally:
        client.credentials()


def refresh_with(client, refresh):
    return client.post(REFRESH, {"refresh": refresh})


def assert_rejected(response, code=None):
    body = assert_error(response, 401, code=code)
    assert body["type"] == "client_error"
    assert len(body["errors"]) == 1, body  # one clear error, not simplejwt's nested dict split up
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    return body


def claims_of(access):
    return jwt.decode(access, options={"verify_signature": False})


# --- access tokens -----------------------------------------------------------


def test_good_access_token_reads_me(anon, tokens, person):
    response = me_with(anon, tokens["access"])
    assert response.status_code == 200
    assert response.json()["email"] == person.email


def test_no_token_is_401_not_authenticated(anon, tokens):
    assert_rejected(anon.get(ME), code="not_authenticated")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer not-a-jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.e30", "Bearer ....."],
)
def test_malformed_token_is_401(anon, header):
    anon.credentials(HTTP_AUTHORIZATION=header)
    body = assert_rejected(anon.get(ME))
    assert body["errors"][0]["code"] in {"token_not_valid", "bad_authorization_header"}


def test_unknown_auth_scheme_is_treated_as_no_credentials(anon):
    anon.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert_rejected(anon.get(ME), code="not_authenticated")


def test_token_with_alg_none_is_401(anon, tokens):
    unsigned = jwt.encode(claims_of(tokens["access"]), key=None, algorithm="none")
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"
    assert_rejected(me_with(anon, unsigned), code="token_not_valid")


def test_token_signed_with_another_key_is_401(anon, tokens):
    forged = jwt.encode(
        claims_of(tokens["access"]), "another-key-that-is-long-enough-for-hs256-0123456789", "HS256"
    )
    assert_rejected(me_with(anon, forged), code="token_not_valid")


def test_token_signed_with_the_django_secret_instead_of_the_jwt_key_is_401(anon, tokens):
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY
    forged = jwt.encode(claims_of(tokens["access"]), settings.SECRET_KEY, "HS256")
    assert_rejected(me_with(anon, forged), code="token_not_valid")


def test_refresh_token_is_not_accepted_as_access_token(anon, tokens):
    assert_rejected(me_with(anon, tokens["refresh"]), code="token_not_valid")


def test_expired_access_token_is_401(anon, tokens):
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    with time_machine.travel(timezone.now() + lifetime - dt.timedelta(seconds=5), tick=False):
        assert me_with(anon, tokens["access"]).status_code == 200
    with time_machine.travel(timezone.now() + lifetime + dt.timedelta(seconds=5), tick=False):
        assert_rejected(me_with(anon, tokens["access"]), code="token_not_valid")


def test_expired_refresh_token_is_401(anon, tokens):
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    with time_machine.travel(timezone.now() + lifetime + dt.timedelta(seconds=5), tick=False):
        assert_rejected(refresh_with(anon, tokens["refresh"]), code="token_not_valid")


# --- refresh tokens ----------------------------------------------------------


@pytest.mark.parametrize("garbage", ["not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "a.b.c"])
def test_malformed_refresh_is_401(anon, garbage):
    assert_rejected(refresh_with(anon, garbage), code="token_not_valid")


def test_blank_refresh_is_a_400_about_the_field_not_a_credential_failure(anon):
    assert_error(refresh_with(anon, ""), 400, code="blank", attr="refresh")


def test_access_token_is_not_accepted_as_refresh(anon, tokens):
    assert_rejected(refresh_with(anon, tokens["access"]), code="token_not_valid")


def test_refresh_signed_with_another_key_is_401(anon, tokens):
    forged = jwt.encode(
        claims_of(tokens["refresh"]), "another-key-that-is-long-enough-for-hs256-0123", "HS256"
    )
    assert_rejected(refresh_with(anon, forged), code="token_not_valid")


def test_rotated_refresh_reused_is_401(anon, tokens):
    rotated = refresh_with(anon, tokens["refresh"])
    assert rotated.status_code == 200
    assert_rejected(refresh_with(anon, tokens["refresh"]), code="token_not_valid")
    # The rotated one still works: only the used token died.
    assert refresh_with(anon, rotated.json()["refresh"]).status_code == 200


def test_refresh_after_logout_is_401(anon, tokens):
    assert anon.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    assert_rejected(refresh_with(anon, tokens["refresh"]), code="token_not_valid")
    # Logging out twice with the same token is refused the same way.
    assert_rejected(anon.post(LOGOUT, {"refresh": tokens["refresh"]}), code="token_not_valid")


# --- password change ---------------------------------------------------------


def test_both_tokens_are_401_after_password_change(anon, tokens):
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    changed = anon.post(PASSWORD, {"old_password": DEFAULT_PASSWORD, "new_password": "fresh-passphrase-42"})
    anon.credentials()
    assert changed.status_code == 200
    assert_rejected(me_with(anon, tokens["access"]), code="password_changed")
    assert_rejected(refresh_with(anon, tokens["refresh"]))
    fresh = changed.json()
    assert me_with(anon, fresh["access"]).status_code == 200
    assert refresh_with(anon, fresh["refresh"]).status_code == 200


def test_refresh_is_401_after_password_set_outside_the_api(anon, tokens, person):
    """An admin resetting a password must also end the user's sessions; the refresh
    token carries the password hash, so it is refused even though nothing blacklisted it."""
    person.set_password("set-by-an-administrator-9")
    person.save()
    assert_rejected(refresh_with(anon, tokens["refresh"]), code="password_changed")
    assert_rejected(me_with(anon, tokens["access"]), code="password_changed")


# --- deactivated and deleted users -------------------------------------------


def test_deactivated_user_access_is_401(anon, tokens, person):
    person.is_active = False
    person.save()
    assert_rejected(me_with(anon, tokens["access"]), code="user_inactive")


def test_deactivated_user_refresh_is_401(anon, tokens, person):
    person.is_active = False
    person.save()
    assert_rejected(refresh_with(anon, tokens["refresh"]), code="no_active_account")


def test_reactivated_user_refresh_works_again(anon, tokens, person):
    person.is_active = False
    person.save()
    assert_rejected(refresh_with(anon, tokens["refresh"]))
    person.is_active = True
    person.save()
    assert refresh_with(anon, tokens["refresh"]).status_code == 200


def test_deleted_user_access_is_401(anon, tokens, person):
    person.delete()
    assert_rejected(me_with(anon, tokens["access"]), code="user_not_found")


def test_deleted_user_refresh_is_401_not_500(anon, tokens, person):
    person.delete()
    assert_rejected(refresh_with(anon, tokens["refresh"]), code="no_active_account")


def test_deleted_user_logout_is_harmless(anon, tokens, person):
    """Logging out the token of a deleted user still blacklists it (204), never a 500."""
    person.delete()
    assert anon.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    assert_rejected(refresh_with(anon, tokens["refresh"]), code="token_not_valid")
