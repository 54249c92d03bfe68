"""Throttling: the strict auth scope per client IP, and the anon and user scopes everywhere
else. Over the limit -> 429, Retry-After, standard body. Failed logins have their own
lockout per (email, IP) and per IP: accounts/tests/test_lockout.py."""

import datetime as dt

import hypothesis
import pytest
import time_machine
from django.utils import timezone
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
REGISTER = "/api/v1/auth/register/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"

AUTH_LIMIT = 10


@pytest.fixture
def rates(settings):
    """Pins the rates (the defaults of .env.example) whatever the environment says."""

    def apply(**overrides):
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {
            "anon": "100/min",
            "user": "1000/min",
            "auth": f"{AUTH_LIMIT}/min",
            "email": "5/hour",
            **overrides.pop("rates", {}),
        }
        rest.update(overrides)
        settings.REST_FRAMEWORK = rest

    apply()
    return apply


def assert_throttled(response):
    body = assert_error(response, 429, code="throttled")
    assert body["type"] == "client_error"
    assert len(body["errors"]) == 1
    assert body["errors"][0]["attr"] is None
    assert 0 < int(response["Retry-After"]) <= 60
    return body


def attempt(client, endpoint, n, **extra):
    """One request to an auth endpoint; the body varies so only the IP is shared."""
    body = {
        TOKEN: {"email": f"someone{n}@example.com", "password": "wrong-password-1"},
        REFRESH: {"refresh": f"not-a-token-{n}"},
        REGISTER: {"email": f"someone{n}@example.com"},
    }[endpoint]
    return client.post(endpoint, body, **extra)


EXPECTED_UNDER_LIMIT = {TOKEN: 401, REFRESH: 401, REGISTER: 400}


@pytest.mark.parametrize("endpoint", [TOKEN, REFRESH, REGISTER])
def test_auth_scope_allows_ten_per_minute_per_ip_then_429(anon, rates, endpoint):
    for n in range(AUTH_LIMIT):
        response = attempt(anon, endpoint, n, REMOTE_ADDR="203.0.113.7")
        assert response.status_code == EXPECTED_UNDER_LIMIT[endpoint], response.content
    assert_throttled(attempt(anon, endpoint, AUTH_LIMIT, REMOTE_ADDR="203.0.113.7"))
    # Another client IP has its own allowance.
    other = attempt(anon, endpoint, AUTH_LIMIT + 1, REMOTE_ADDR="203.0.113.8")
    assert other.status_code == EXPECTED_UNDER_LIMIT[endpoint]


def test_auth_scope_is_one_allowance_per_ip_across_the_auth_endpoints(anon, rates):
    """Like DRF's scoped throttles: ten logins use up the IP's refreshes and registrations too."""
    for n in range(AUTH_LIMIT):
        assert attempt(anon, TOKEN, n).status_code == 401
    assert_throttled(attempt(anon, REFRESH, 0))
    assert_throttled(attempt(anon, REGISTER, 0))
    # Endpoints outside the auth scope are not affected.
    assert_error(anon.post(LOGOUT, {"refresh": "garbage"}), 401, code="token_not_valid")


def test_auth_scope_allows_again_after_the_window(anon, rates):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(AUTH_LIMIT):
            attempt(anon, TOKEN, n)
        assert_throttled(attempt(anon, TOKEN, AUTH_LIMIT))
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        assert attempt(anon, TOKEN, AUTH_LIMIT + 1).status_code == 401


def test_spoofed_x_forwarded_for_does_not_reset_the_ip_count(anon, rates):
    rates(NUM_PROXIES=0)
    for n in range(AUTH_LIMIT):
        response = attempt(anon, TOKEN, n, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        assert response.status_code == 401
    assert_throttled(
        attempt(anon, TOKEN, AUTH_LIMIT, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9")
    )


def test_behind_one_proxy_the_forwarded_client_ip_is_the_key(anon, rates):
    """NUM_PROXIES=1: the proxy's address is shared, the client IP it appends is not."""
    rates(NUM_PROXIES=1)
    proxy = "192.0.2.1"
    for n in range(AUTH_LIMIT):
        attempt(anon, TOKEN, n, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.7")
    assert_throttled(
        attempt(anon, TOKEN, AUTH_LIMIT, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="other-spoof, 203.0.113.7")
    )
    fresh = attempt(anon, TOKEN, AUTH_LIMIT + 1, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert fresh.status_code == 401


def test_anon_scope_throttles_anonymous_callers(anon, rates):
    rates(rates={"anon": "3/min"})
    for _ in range(3):
        assert_error(anon.post(LOGOUT, {"refresh": "garbage"}), 401, code="token_not_valid")
    assert_throttled(anon.post(LOGOUT, {"refresh": "garbage"}))


def test_anon_scope_does_not_count_authenticated_callers(api, rates):
    rates(rates={"anon": "1/min"})
    for _ in range(3):
        assert api.get(ME).status_code == 200


def test_user_scope_throttles_per_user(client_for, rates):
    rates(rates={"user": "3/min"})
    first = client_for(UserFactory())
    for _ in range(3):
        assert first.get(ME).status_code == 200
    assert_throttled(first.get(ME))
    # Same IP, another user: a separate allowance.
    assert client_for(UserFactory()).get(ME).status_code == 200


def test_health_is_never_throttled(anon, rates):
    rates(rates={"anon": "1/min"})
    for _ in range(3):
        response = anon.get("/api/health/")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}


# The window's storage (server/throttling.py keeps DRF's rule in a compact value) ----------


class _Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


def _throttles(clock):
    """DRF's own throttle and ours, at 5 per minute, on the same clock and separate keys."""
    from rest_framework import throttling as drf

    from server.throttling import _CompactHistory

    class Reference(drf.SimpleRateThrottle):
        rate = "5/min"
        timer = clock

        def get_cache_key(self, request, view):
            return "throttle-reference"

    class Ours(_CompactHistory, Reference):
        def get_cache_key(self, request, view):
            return "throttle-ours"

    return Reference, Ours


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    gaps=st.lists(st.one_of(st.integers(0, 40).map(float), st.floats(min_value=0, max_value=40)), max_size=40)
)
@hypothesis.example(gaps=[0.0] * 5 + [60.0, 0.0])  # a request exactly a window old has left it
def test_the_compact_window_answers_as_drfs_own(gaps):
    """For any spacing of requests, the same admissions and the same Retry-After as DRF's
    SimpleRateThrottle, whose rule it keeps."""
    from django.core.cache import cache

    cache.clear()
    clock = _Clock()
    reference, ours = _throttles(clock)
    for gap in gaps:
        clock.now += gap
        expected, actual = reference(), ours()
        allowed = expected.allow_request(None, None)
        assert actual.allow_request(None, None) == allowed
        if not allowed:
            assert actual.wait() == pytest.approx(expected.wait())
    stored = cache.get("throttle-ours")
    assert stored is None or (isinstance(stored, bytes) and len(stored) <= 8 * 5)


def test_a_window_drf_wrote_is_read_and_counted():
    """A history left in the shared cache by DRF's throttle (newest first) keeps counting."""
    from django.core.cache import cache

    cache.clear()
    clock = _Clock()
    _reference, ours = _throttles(clock)
    cache.set("throttle-ours", [clock.now - 1, clock.now - 30, clock.now - 59, clock.now - 61], 60)
    assert ours().allow_request(None, None)  # three in the window, and this one
    assert ours().allow_request(None, None)
    refused = ours()
    assert not refused.allow_request(None, None)
    assert refused.wait() == pytest.approx(1.0)  # the one of 59 s ago leaves in 1 s
