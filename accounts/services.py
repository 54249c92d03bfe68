from django.contrib.auth import password_validation
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import User, normalise_email
from server.integrity import on_violation


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
    return User.objects.create_user(
        email=normalise_email(email), password=password, first_name=first_name, last_name=last_name
    )


@transaction.atomic
def user_update(*, user: User, **fields) -> User:
    if "email" in fields:
        fields["email"] = normalise_email(fields["email"])
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields) or None)
    return user


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
