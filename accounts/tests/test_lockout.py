"""One brute-force policy for every way in (accounts/lockout.py): failed logins, and only
failures, count per (email, IP) and per IP; past the limit the attempt is refused before
the password is checked, until the cool-off has passed."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def policy(settings):
    """The defaults of .env.example, and no per-IP throttle in the way of counting."""
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 50
    settings.LOGIN_LOCKOUT_MINUTES = 15
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "auth": "10000/min"}
    settings.REST_FRAMEWORK = rest


def login(anon, email, password="wrong-guess-1", ip="203.0.113.7"):
    return anon.post(TOKEN, {"email": email, "password": password}, REMOTE_ADDR=ip)


def assert_locked_out(response):
    body = assert_error(response, 429, "locked_out", attr=None)
    assert int(response["Retry-After"]) == 15 * 60
    assert "access" not in response.json()
    return body


def test_five_failures_lock_that_email_on_that_address_even_with_the_right_password(anon):
    user = UserFactory(email="target@example.com")
    for _ in range(5):
        assert_error(login(anon, user.email), 401, "no_active_account")
    assert_locked_out(login(anon, "  TARGET@example.com ", DEFAULT_PASSWORD))


def test_someone_elses_failures_never_lock_a_person_out_from_their_own_address(anon):
    """The hole of a per-email throttle: failures from anywhere locked the owner out."""
    user = UserFactory(email="target@example.com")
    for n in range(20):
        login(anon, user.email, ip=f"198.51.100.{n}")
    response = login(anon, user.email, DEFAULT_PASSWORD, ip="192.0.2.55")
    assert response.status_code == 200 and set(response.json()) == {"access", "refresh"}


def test_successes_are_not_counted(anon):
    user = UserFactory()
    for _ in range(12):
        assert login(anon, user.email, DEFAULT_PASSWORD).status_code == 200


def test_a_success_clears_its_own_failures_but_not_the_addresss(anon, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 9
    user = UserFactory()
    for _ in range(4):
        login(anon, user.email)
    assert login(anon, user.email, DEFAULT_PASSWORD).status_code == 200
    for _ in range(4):
        assert login(anon, user.email).status_code == 401  # the pair count started again
    # But the address has now failed 8 times: one more (any email) locks it.
    login(anon, "someone-else@example.com")
    assert_locked_out(login(anon, user.email, DEFAULT_PASSWORD))


def test_one_address_failing_across_many_emails_is_locked_out(anon, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 8
    user = UserFactory()
    for n in range(8):
        assert login(anon, f"spray{n}@example.com").status_code == 401
    assert_locked_out(login(anon, user.email, DEFAULT_PASSWORD))
    assert login(anon, user.email, DEFAULT_PASSWORD, ip="203.0.113.8").status_code == 200


def test_the_lockout_ends_after_the_cool_off(anon):
    user = UserFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            login(anon, user.email)
        assert_locked_out(login(anon, user.email, DEFAULT_PASSWORD))
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert_locked_out(login(anon, user.email, DEFAULT_PASSWORD))
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert login(anon, user.email, DEFAULT_PASSWORD).status_code == 200


def test_known_and_unknown_emails_fail_and_lock_alike(anon):
    """Neither the refusals nor the lockout tell whether an account exists."""
    UserFactory(email="known@example.com")
    transcripts = {}
    for network, email in ((100, "known@example.com"), (101, "unknown@example.com")):
        responses = [login(anon, email, ip=f"198.51.{network}.1") for _ in range(6)]
        transcripts[email] = [(r.status_code, r.json(), r.get("Retry-After")) for r in responses]
    known, unknown = transcripts["known@example.com"], transcripts["unknown@example.com"]
    assert [status for status, _, _ in known] == [401] * 5 + [429]
    assert known == unknown


def test_a_spoofed_forwarded_for_does_not_dodge_the_count(anon):
    user = UserFactory()
    for n in range(5):
        anon.post(
            TOKEN,
            {"email": user.email, "password": "guess"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    assert_locked_out(login(anon, user.email, DEFAULT_PASSWORD))


# The admin's login --------------------------------------------------------------------------


def admin_login(client, email, password):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password}, REMOTE_ADDR="203.0.113.9")


def test_the_admin_login_locks_out_after_failures_until_the_cool_off():
    """12 wrong passwords, then the right one: refused, with the lockout page (429)."""
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        statuses = [admin_login(client, staff.email, "wrong-guess-1").status_code for _ in range(12)]
        assert statuses[:4] == [200] * 4  # the form again, with its error
        assert set(statuses[4:]) == {429}
        refused = admin_login(client, staff.email, DEFAULT_PASSWORD)
        assert refused.status_code == 429
        assert b"Too many failed sign-ins" in refused.content
        assert "_auth_user_id" not in client.session
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        response = admin_login(client, staff.email, DEFAULT_PASSWORD)
        assert response.status_code == 302 and response["Location"] == "/admin/"


def test_admin_and_api_failures_count_together(anon):
    user = UserFactory(email="both@example.com", is_staff=True)
    client = Client()
    for _ in range(3):
        admin_login(client, user.email, "wrong-guess-1")
    for _ in range(2):
        login(anon, user.email, ip="203.0.113.9")
    assert_locked_out(login(anon, user.email, DEFAULT_PASSWORD, ip="203.0.113.9"))
