"""Single-use, expiring tokens sent by email: one verifies an address, one resets a password.

A token is Django's signing of the user's id and a digest of the account's state at the
moment it was made (the scheme of Django's PasswordResetTokenGenerator, without the uid in
the URL). Whatever the token is for changes that state once it is used (the address gets
verified, the password changes), so a second use finds a different digest; so does any
change of email in between. The signature carries its own age, checked against the
purpose's lifetime.

Refusals are 400s on the ``token`` field: ``token_invalid`` (tampered, truncated, or made
for something else), ``token_expired``, ``token_used`` (used already, or superseded).
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework.exceptions import ValidationError

from accounts.models import User


def _refused(code: str, detail: str) -> ValidationError:
    return ValidationError({"token": [detail]}, code=code)


class AccountToken:
    def __init__(self, purpose: str, lifetime, state):
        self.salt = f"accounts.tokens.{purpose}"
        self.lifetime = lifetime  # a callable: settings may change after import (tests do)
        self.state = state

    def _digest(self, user: User, extra: str) -> str:
        return salted_hmac(self.salt, f"{self.state(user)}|{extra}", algorithm="sha256").hexdigest()[:40]

    def make(self, user: User, extra: str = "") -> str:
        return signing.dumps({"u": user.pk, "x": extra, "d": self._digest(user, extra)}, salt=self.salt)

    def read(self, token, *, lock: bool = False) -> tuple[User, str]:
        """The user the token was made for and its ``extra``, or a 400 naming why not.
        ``lock``: read the account FOR UPDATE (inside a transaction), so that of two requests
        with one token only the first finds the state it was made for."""
        if not isinstance(token, str) or not token or len(token) > 1000:
            raise _refused("token_invalid", "This link is not valid. Ask for a new one.")
        try:
            payload = signing.loads(token, salt=self.salt, max_age=self.lifetime())
        except signing.SignatureExpired:
            raise _refused("token_expired", "This link has expired. Ask for a new one.") from None
        except signing.BadSignature:
            raise _refused("token_invalid", "This link is not valid. Ask for a new one.") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
            raise _refused("token_invalid", "This link is not valid. Ask for a new one.")
        extra = str(payload.get("x", ""))
        users = User.objects.select_for_update() if lock else User.objects
        user = users.filter(pk=payload["u"], is_active=True).first()
        if user is None or not constant_time_compare(self._digest(user, extra), str(payload.get("d", ""))):
            raise _refused(
                "token_used",
                "This link has already been used, or a newer one replaced it. Ask for a new one.",
            )
        return user, extra


# Proves the mailbox at ``extra`` (the account's unverified email, or the new address it
# asked to change to). Dies once that address is verified or another is asked for.
email_verification = AccountToken(
    "email_verification",
    lambda: timedelta(hours=settings.EMAIL_VERIFICATION_TTL_HOURS),
    lambda user: f"{user.pk}|{user.email}|{user.pending_email}|{user.email_verified_at}",
)

# Sets a new password. Dies once the password (or the email) changes.
password_reset = AccountToken(
    "password_reset",
    lambda: timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
    lambda user: f"{user.pk}|{user.password}|{user.email}",
)
