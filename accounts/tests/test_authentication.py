"""The API's JWT authentication (accounts/authentication.py): a token is checked once per
request, however many DRF Requests wrap it, and again on every new request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.authentication import JWTAuthentication
from accounts.services import token_pair_for
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def http_request(access: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access}"} if access else {}
    return APIRequestFactory().post("/api/v1/transactions/", {}, format="json", **headers)


def user_of(request):
    return Request(request, authenticators=[JWTAuthentication()]).user


def test_two_drf_requests_on_one_http_request_decode_and_read_the_user_once():
    """The Idempotency-Key middleware's Request and the view's: one user read between them."""
    person = UserFactory()
    request = http_request(token_pair_for(person)["access"])
    with CaptureQueriesContext(connection) as queries:
        first, second = user_of(request), user_of(request)
    assert first == second == person
    assert second is first
    assert len(queries) == 1


def test_each_new_request_checks_the_token_again():
    """Nothing outlives a request: a password change or a deactivation refuses the token from
    the next request on."""
    person = UserFactory()
    access = token_pair_for(person)["access"]
    assert user_of(http_request(access)) == person

    person.set_password("changed-by-the-owner-42")
    person.save()
    with pytest.raises(AuthenticationFailed) as changed:
        user_of(http_request(access))
    assert changed.value.detail["code"] == "password_changed"

    fresh = token_pair_for(person)["access"]
    assert user_of(http_request(fresh)) == person
    person.is_active = False
    person.save()
    with pytest.raises(AuthenticationFailed) as inactive:
        user_of(http_request(fresh))
    assert inactive.value.detail["code"] == "user_inactive"


def test_a_failure_is_raised_on_every_attempt_and_not_kept():
    request = http_request("not-a-token")
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            user_of(request)
    assert not hasattr(request, "_jwt_authentication")


def test_no_credentials_is_anonymous_each_time():
    request = http_request(None)
    assert not user_of(request).is_authenticated
    assert not user_of(request).is_authenticated


def test_another_header_on_the_same_request_is_checked_afresh():
    """What is kept is keyed by the Authorization header it was read from."""
    alice, bob = UserFactory(), UserFactory()
    request = http_request(token_pair_for(alice)["access"])
    assert user_of(request) == alice
    request.META["HTTP_AUTHORIZATION"] = f"Bearer {token_pair_for(bob)['access']}"
    assert user_of(request) == bob
