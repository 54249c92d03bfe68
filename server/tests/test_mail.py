"""Email delivery (server/mail.py): through a real SMTP server, after the commit, in the
background as deployed, and never at the cost of the request."""

import email
import logging
import socket
from email.utils import parseaddr

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from server.mail import wait_for_background_jobs
from server.tests.helpers import token_in

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Household Budget <no-reply@budget.example>"
    yield inbox
    controller.stop()


def test_the_welcome_email_goes_through_a_real_smtp_server_with_its_headers(anon, smtp_server):
    response = anon.post(REGISTER, {"email": "Smtp.Person@Example.com", "password": "a-long-enough-secret-9"})
    assert response.status_code == 201
    (envelope,) = smtp_server.envelopes
    assert envelope.mail_from == "no-reply@budget.example"
    assert envelope.rcpt_tos == ["smtp.person@example.com"]
    message = email.message_from_bytes(envelope.original_content)
    assert parseaddr(message["From"]) == ("Household Budget", "no-reply@budget.example")
    assert message["To"] == "smtp.person@example.com"
    assert message["Subject"] == "Welcome! Confirm your email address"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    body = message.get_payload(decode=True).decode()
    assert "/verify-email?token=" in body
    # The token that crossed the wire verifies the address.
    token = token_in(type("Sent", (), {"body": body}))
    assert anon.post("/api/v1/auth/email/verify/", {"token": token}).status_code == 200


def test_a_mail_server_that_is_down_does_not_fail_the_request(anon, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    with caplog.at_level(logging.ERROR, logger="server.mail"):
        response = anon.post(REGISTER, {"email": "offline@example.com", "password": "a-long-enough-secret-9"})
    assert response.status_code == 201
    assert "Could not send" in caplog.text and "offline@example.com" in caplog.text


def test_a_request_that_rolls_back_sends_nothing(client_for):
    from households.tests.factories import make_household

    household = make_household()
    owner = household.memberships.get().user
    path = f"/api/v1/households/{household.pk}/invitations/"
    assert client_for(owner).post(path, {"email": "once@example.com"}).status_code == 201
    mail.outbox.clear()
    again = client_for(owner).post(path, {"email": "once@example.com"})  # refused: already invited
    assert again.status_code == 400
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_in_the_background_the_message_follows_the_answer(anon, settings):
    settings.EMAIL_IN_BACKGROUND = True
    response = anon.post(REGISTER, {"email": "later@example.com", "password": "a-long-enough-secret-9"})
    assert response.status_code == 201
    wait_for_background_jobs()
    assert [m.to for m in mail.outbox] == [["later@example.com"]]
