"""The auth endpoints answer what the OpenAPI schema says they answer: regressions for the
defects schemathesis found (server/tests/test_schemathesis.py)."""

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from server.tests.helpers import assert_error
from server.tests.openapi_helpers import assert_documented

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/auth/me/"
PASSWORD = "/api/v1/auth/password/"


def test_wrong_old_password_error_is_documented(api):
    """Found by schemathesis: "wrong_password" was missing from the 400's codes."""
    response = api.post(PASSWORD, {"old_password": "not-it", "new_password": "a-brand-new-passphrase-7"})
    body = assert_error(response, 400, code="wrong_password", attr="old_password")
    assert body["type"] == "validation_error"
    assert_documented(response, "post", PASSWORD)


def test_taken_email_on_register_is_documented(anon):
    UserFactory(email="taken@example.com")
    response = anon.post(REGISTER, {"email": "taken@example.com", "password": "a-brand-new-passphrase-7"})
    assert_error(response, 400, code="unique", attr="email")
    assert_documented(response, "post", REGISTER)


def test_taken_email_on_profile_change_is_documented(api):
    UserFactory(email="taken@example.com")
    response = api.patch(ME, {"email": "taken@example.com"})
    assert_error(response, 400, code="unique", attr="email")
    assert_documented(response, "patch", ME)


@pytest.mark.parametrize(
    ("field", "value"), [("first_name", 5), ("last_name", 1.5), ("email", 7), ("password", 12345678)]
)
def test_register_takes_text_fields_only_as_strings(anon, field, value):
    """Found by schemathesis: a number where the schema says string was turned into text."""
    data = {"email": "new@example.com", "password": "a-brand-new-passphrase-7", field: value}
    response = anon.post(REGISTER, data, format="json")
    body = assert_error(response, 400, code="invalid", attr=field)
    assert len(body["errors"]) == 1
    assert_documented(response, "post", REGISTER)


def test_register_still_takes_strings(anon):
    response = anon.post(
        REGISTER,
        {"email": "new@example.com", "password": "a-brand-new-passphrase-7", "first_name": "5"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["first_name"] == "5"


def test_profile_names_only_as_strings(api):
    response = api.patch(ME, {"first_name": 12}, format="json")
    assert_error(response, 400, code="invalid", attr="first_name")
    api.user.refresh_from_db()
    assert api.user.first_name != "12"


def test_login_takes_credentials_only_as_strings(anon):
    user = UserFactory(email="12@example.com")
    response = anon.post(TOKEN, {"email": user.email, "password": 5}, format="json")
    assert_error(response, 400, code="invalid", attr="password")
    ok = anon.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert ok.status_code == 200
    assert set(ok.json()) == {"access", "refresh"}
