"""The account emails' words. Each link goes to the client app (PUBLIC_BASE_URL), which posts
its token to the API; the token is in the message too, for clients without a web app."""

from django.conf import settings

from server.mail import public_link, send_after_commit

_SIGNATURE = "\n\n-- \nHousehold Budget. You get this message because of an action on your account."


def verify_address(*, to: str, token: str, first: bool) -> None:
    what = "Welcome! Confirm your email address" if first else "Confirm your new email address"
    send_after_commit(
        to=to,
        subject=what,
        body=(
            f"{what} by opening this link:\n\n{public_link('/verify-email', token=token)}\n\n"
            f"or by sending this token to POST /api/v1/auth/email/verify/:\n\n{token}\n\n"
            f"The link works once and expires in {settings.EMAIL_VERIFICATION_TTL_HOURS} hours. "
            "If you did not ask for it, ignore this message." + _SIGNATURE
        ),
    )


def address_change_requested(*, to: str, new_address: str) -> None:
    send_after_commit(
        to=to,
        subject="Your account's email address is about to change",
        body=(
            f"Someone signed in to your account asked to change its email address to {new_address}. "
            "The change happens only once that address confirms it.\n\n"
            "If this was not you, change your password now: "
            f"{public_link('/forgot-password')}" + _SIGNATURE
        ),
    )


def reset_password(*, to: str, token: str) -> None:
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    send_after_commit(
        to=to,
        subject="Reset your password",
        body=(
            f"To choose a new password, open this link:\n\n{public_link('/reset-password', token=token)}\n\n"
            "or send this token with your new password to POST /api/v1/auth/password/reset/confirm/:\n\n"
            f"{token}\n\nThe link works once and expires in {minutes} minutes. Every device signed in "
            "to your account is signed out when the password changes. If you did not ask for this, "
            "ignore this message: your password stays as it is." + _SIGNATURE
        ),
    )
