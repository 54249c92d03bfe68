"""Forgotten password: 202 and the same body whatever the address; a single-use link valid an
hour; setting the new password revokes every token issued before."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import token_pair_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from server.mail import wait_for_background_jobs
from server.tests.helpers import assert_error, token_in

pytestmark = pytest.mark.django_db

RESET = "/api/v1/auth/password/reset/"
CONFIRM = "/api/v1/auth/password/reset/confirm/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
ME = "/api/v1/auth/me/"
NEW_PASSWORD = "a-brand-new-passphrase-7"


def ask(anon, email):
    response = anon.post(RESET, {"email": email})
    assert response.status_code == 202, response.content
    return response


@pytest.mark.django_db(transaction=True)  # the background job reads the user on its own connection
def test_the_answer_is_the_same_whether_or_not_an_account_uses_the_address(anon, settings):
    UserFactory(email="known@example.com")
    settings.EMAIL_IN_BACKGROUND = True  # as deployed: the request itself never looks the address up
    answers = []
    for email in ("known@example.com", "unknown@example.com"):
        with CaptureQueriesContext(connection) as queries:
            response = ask(anon, email)
        answers.append((response.status_code, response.content, sorted(response.headers), len(queries)))
    assert answers[0] == answers[1]
    assert answers[0][3] == 0  # no query in the request: the lookup runs after the answer
    wait_for_background_jobs()
    assert [m.to for m in mail.outbox] == [["known@example.com"]]


def test_the_link_sets_a_new_password_once(anon):
    user = UserFactory(email="forgetful@example.com")
    ask(anon, "  Forgetful@Example.com ")
    (message,) = mail.outbox
    assert message.subject == "Reset your password" and message.to == [user.email]
    assert "/reset-password?token=" in message.body and "60 minutes" in message.body
    token = token_in(message)
    assert anon.post(CONFIRM, {"token": token, "new_password": NEW_PASSWORD}).status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    again = anon.post(CONFIRM, {"token": token, "new_password": "yet-another-passphrase-8"})
    assert_error(again, 400, "token_used", attr="token")
    assert anon.post(TOKEN, {"email": user.email, "password": NEW_PASSWORD}).status_code == 200


def test_a_reset_revokes_every_token_issued_before(anon, client_for):
    user = UserFactory()
    old_refresh = token_pair_for(user)["refresh"]
    old_session = client_for(user)
    assert old_session.get(ME).status_code == 200
    ask(anon, user.email)
    anon.post(CONFIRM, {"token": token_in(mail.outbox[0]), "new_password": NEW_PASSWORD})
    assert_error(old_session.get(ME), 401)
    assert_error(anon.post(REFRESH, {"refresh": old_refresh}), 401)


def test_the_link_expires_after_an_hour(anon):
    user = UserFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ask(anon, user.email)
    token = token_in(mail.outbox[0])
    with time_machine.travel(start + dt.timedelta(minutes=60, seconds=1), tick=False):
        response = anon.post(CONFIRM, {"token": token, "new_password": NEW_PASSWORD})
        assert_error(response, 400, "token_expired", attr="token")
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_tampered_link_is_token_invalid(anon):
    user = UserFactory()
    ask(anon, user.email)
    token = token_in(mail.outbox[0])
    for bad in (token[:-4] + "AAAA", token[5:], "nonsense"):
        assert_error(anon.post(CONFIRM, {"token": bad, "new_password": NEW_PASSWORD}), 400, "token_invalid")
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_the_password_validators_apply_and_keep_the_link_usable(anon):
    user = UserFactory()
    ask(anon, user.email)
    token = token_in(mail.outbox[0])
    weak = anon.post(CONFIRM, {"token": token, "new_password": "password"})
    assert_error(weak, 400, attr="new_password")
    assert anon.post(CONFIRM, {"token": token, "new_password": NEW_PASSWORD}).status_code == 204


def test_a_password_change_kills_an_outstanding_link(anon, client_for):
    user = UserFactory()
    ask(anon, user.email)
    token = token_in(mail.outbox[0])
    client_for(user).post(
        "/api/v1/auth/password/", {"old_password": DEFAULT_PASSWORD, "new_password": "changed-passphrase-9"}
    )
    assert_error(anon.post(CONFIRM, {"token": token, "new_password": NEW_PASSWORD}), 400, "token_used")


def test_a_reset_proves_the_address(anon):
    user = UserFactory(email_verified_at=None)
    ask(anon, user.email)
    anon.post(CONFIRM, {"token": token_in(mail.outbox[0]), "new_password": NEW_PASSWORD})
    user.refresh_from_db()
    assert user.email_verified


def test_at_most_a_few_messages_an_hour_go_to_one_address_silently(anon, settings):
    settings.PASSWORD_RESET_EMAILS_PER_HOUR = 3
    user = UserFactory()
    responses = [ask(anon, user.email) for _ in range(5)]
    assert len({r.content for r in responses}) == 1
    assert len(mail.outbox) == 3


def test_an_inactive_account_gets_no_link(anon):
    user = UserFactory(is_active=False)
    ask(anon, user.email)
    assert mail.outbox == []


def test_reset_requests_share_the_strict_auth_allowance(anon, settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "auth": "2/min"}
    settings.REST_FRAMEWORK = rest
    ask(anon, "a@example.com")
    ask(anon, "b@example.com")
    assert_error(anon.post(RESET, {"email": "c@example.com"}), 429, "throttled")
