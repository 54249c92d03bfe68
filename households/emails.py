"""The invitation email: its link carries a single-use token bound to the invitation, so the
mailbox that receives it can join (or decline) whatever address the account signs in with."""

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from households.models import Invitation
from server.mail import public_link, send_after_commit

_SALT = "households.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": str(invitation.pk)}, salt=_SALT)


def invitation_for_token(token) -> Invitation:
    """The invitation a token names; its own status and expiry decide what it is good for
    (an answered invitation is a 409 by its status). 400 token_invalid otherwise."""
    refused = ValidationError({"token": ["This invitation link is not valid."]}, code="token_invalid")
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise refused
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise refused from None
    invitation_id = payload.get("i") if isinstance(payload, dict) else None
    try:
        invitation = Invitation.objects.select_related("household").filter(pk=invitation_id).first()
    except DjangoValidationError:  # not a UUID (only a signed payload gets here)
        invitation = None
    if invitation is None:
        raise refused
    return invitation


def send_invitation(invitation: Invitation, *, inviter_name: str) -> None:
    token = invitation_token(invitation)
    household = invitation.household.name
    send_after_commit(
        to=invitation.email,
        subject=f"{inviter_name} invites you to the household {household}",
        body=(
            f"{inviter_name} invites you to join the household \u201c{household}\u201d as "
            f"{invitation.role} on Household Budget.\n\nAccept: "
            f"{public_link('/invitations/accept', token=token)}\n"
            f"Decline: {public_link('/invitations/decline', token=token)}\n\n"
            "Accepting needs an account (any address you sign in with); or send this token to "
            f"POST /api/v1/invitations/accept/ (or decline/):\n\n{token}\n\n"
            f"The invitation expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC and works once.\n\n"
            "-- \nHousehold Budget. You get this message because someone invited this address."
        ),
    )
