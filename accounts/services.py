import hashlib

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts import emails, tokens
from accounts.models import User, normalise_email
from server.integrity import on_violation
from server.mail import run_after_commit


def email_taken() -> ValidationError:
    return ValidationError({"email": [_("A user with this email already exists.")]}, code="unique")


# Two registrations (or email changes) of one address at once: both pass the check, the
# constraint refuses the second.
on_violation(
    "accounts_user_email_key", "accounts_user.email", "accounts_user_email_ci_unique", error=email_taken
)


def token_pair_for(user: User) -> dict[str, str]:
    """A fresh refresh token (recorded as outstanding) and its access token."""
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """The account starts unverified; a link to prove the address goes to it."""
    user = User.objects.create_user(
        email=normalise_email(email), password=password, first_name=first_name, last_name=last_name
    )
    emails.verify_address(to=user.email, token=tokens.email_verification.make(user, user.email), first=True)
    return user


@transaction.atomic
def user_update(*, user: User, **fields) -> User:
    """Names (and, for the system, anything else); an account changes its email through
    email_change_request."""
    if "email" in fields:
        fields["email"] = normalise_email(fields["email"])
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields) or None)
    return user


def email_is_taken(email: str, *, exclude_pk=None) -> bool:
    """Compared as the unique constraint compares, with the database's lower()."""
    taken = User.objects.alias(folded=Lower("email")).filter(folded=Lower(Value(normalise_email(email))))
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


@transaction.atomic
def email_change_request(*, user: User, new_email: str) -> User:
    """The account asks to use ``new_email``: nothing changes until that mailbox confirms
    (email_verify); meanwhile ``pending_email`` shows it, and the current address is told.
    Asking for the current address again drops a pending change."""
    user = User.objects.select_for_update().get(pk=user.pk)
    new_email = normalise_email(new_email)
    if new_email == user.email:
        if user.pending_email:
            user.pending_email = ""
            user.save(update_fields=["pending_email"])
        return user
    if email_is_taken(new_email, exclude_pk=user.pk):
        raise email_taken()
    user.pending_email = new_email
    user.save(update_fields=["pending_email"])
    emails.verify_address(to=new_email, token=tokens.email_verification.make(user, new_email), first=False)
    emails.address_change_requested(to=user.email, new_address=new_email)
    return user


@transaction.atomic
def email_verify(*, token: str) -> User:
    """The mailbox the token was sent to is proven: the account's own (unverified) address is
    now verified, or a pending change of address lands. Single use, under the account's lock."""
    user, address = tokens.email_verification.read(token, lock=True)
    if address == user.pending_email:
        if email_is_taken(address, exclude_pk=user.pk):
            raise ValidationError(
                {"token": ["Another account took this address meanwhile; ask for another change."]},
                code="email_taken",
            )
        user.email, user.pending_email = address, ""
    elif address != user.email:  # a digest match makes this unreachable; kept as the rule
        raise ValidationError({"token": ["This link is for another address."]}, code="token_used")
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email", "pending_email", "email_verified_at"])
    return user


def email_verification_resend(*, user: User) -> str:
    """Sends the link again, to the pending address if a change waits, else to the account's
    own unverified address. Returns the address."""
    if user.pending_email:
        address = user.pending_email
    elif not user.email_verified:
        address = user.email
    else:
        raise ValidationError({"email": ["This address is already verified."]}, code="already_verified")
    with transaction.atomic():
        emails.verify_address(
            to=address, token=tokens.email_verification.make(user, address), first=address == user.email
        )
    return address


def password_reset_request(*, email: str) -> None:
    """Answers the same whether or not anyone has ``email``: the lookup and the message
    happen after the response, in the background (server/mail.py). At most
    PASSWORD_RESET_EMAILS_PER_HOUR messages go to one address, silently."""
    run_after_commit(_send_password_reset, normalise_email(email))


def _send_password_reset(email: str) -> None:
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        return
    key = f"password-reset:{hashlib.sha256(email.encode()).hexdigest()}"
    cache.add(key, 0, timeout=3600)
    if cache.incr(key) > settings.PASSWORD_RESET_EMAILS_PER_HOUR:
        return
    emails.reset_password(to=user.email, token=tokens.password_reset.make(user))


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str) -> None:
    """Sets the new password (validators apply) and revokes every token issued before, as a
    password change does. The link came to the account's address, so it is verified too."""
    user, _ = tokens.password_reset.read(token, lock=True)
    try:
        password_validation.validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from None
    user.set_password(new_password)
    if not user.email_verified:
        user.email_verified_at = timezone.now()
    user.save(update_fields=["password", "email_verified_at"])
    user_tokens_revoke(user=user)


def user_tokens_revoke(*, user: User) -> int:
    """Blacklist every outstanding refresh token of the user; returns how many."""
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def user_password_change(*, user: User, new_password: str) -> dict[str, str]:
    """Sets the password and revokes every token issued before; returns a fresh pair.

    Access tokens die through simplejwt's CHECK_REVOKE_TOKEN (they carry a hash of
    the password); refresh tokens, which simplejwt 5.5.1 does not check, are blacklisted.
    """
    password_validation.validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_tokens_revoke(user=user)
    return token_pair_for(user)


@transaction.atomic
def refresh_token_spend(*, token: RefreshToken, user: User | None) -> None:
    """A refresh token works once, for a refresh or a logout. Its outstanding row is locked
    while it is checked and blacklisted, so of several requests sending one token at once
    exactly one gets through; the others see it blacklisted (401)."""
    jti = token.payload[jwt_settings.JTI_CLAIM]
    outstanding, _created = OutstandingToken.objects.get_or_create(
        jti=jti,
        defaults={
            "user": user,
            "created_at": timezone.now(),
            "token": str(token),
            "expires_at": datetime_from_epoch(token.payload["exp"]),
        },
    )
    list(OutstandingToken.objects.select_for_update().filter(pk=outstanding.pk).order_by().values_list("pk"))
    if BlacklistedToken.objects.filter(token_id=outstanding.pk).exists():
        raise InvalidToken(_("Token is blacklisted"))
    BlacklistedToken.objects.create(token_id=outstanding.pk)


@transaction.atomic
def token_refresh(*, token: RefreshToken, user: User) -> dict[str, str]:
    """Spends ``token`` and returns a new pair (rotation): the new refresh token is
    recorded as outstanding in the same transaction."""
    refresh_token_spend(token=token, user=user)
    token.set_jti()
    token.set_exp()
    token.set_iat()
    token.outstand()
    return {"access": str(token.access_token), "refresh": str(token)}
