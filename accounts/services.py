from django.contrib.auth import password_validation
from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User, normalise_email


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
