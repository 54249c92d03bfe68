"""Brute-force protection for every way in (django-axes): the API's token endpoint and the
Django admin's login count the same failures.

Failures only are counted, in the shared cache, per (email tried, client IP) and per client
IP: LOGIN_FAILURE_LIMIT failures for one email from one address, or
LOGIN_FAILURE_LIMIT_PER_IP from one address whatever the emails, lock that pair (or that
address) out for LOGIN_LOCKOUT_MINUTES after the last failure. Someone else's failures, from
another address, never lock a person out; a success clears its own (email, address) count
only. The API answers a locked-out attempt with 429 ``locked_out`` and Retry-After, before
checking the password; the admin shows its lockout page (templates/admin/lockout.html).
"""

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_cache_keys
from django.conf import settings
from rest_framework.exceptions import Throttled

from accounts.models import normalise_email


class LockedOut(Throttled):
    default_detail = "Too many failed sign-ins from this address. Try again later, or reset your password."
    default_code = "locked_out"


def attempted_email(request, credentials) -> str | None:
    """The email an attempt named, as the account would store it (AXES_USERNAME_CALLABLE):
    the API sends ``email``, the admin's form ``username``."""
    if credentials:
        value = credentials.get("email") or credentials.get("username")
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get("email") or data.get("username") if hasattr(data, "get") else None
    return normalise_email(value) if isinstance(value, str) and value.strip() else None


class LoginLockoutHandler(AxesCacheHandler):
    """axes' cache handler with two limits: one per (email, address), one per address."""

    def _keys(self, request, credentials) -> tuple[str, str]:
        pair_key, address_key = get_client_cache_keys(request, credentials)  # AXES_LOCKOUT_PARAMETERS order
        return pair_key, address_key

    def is_locked(self, request, credentials=None) -> bool:
        pair_key, address_key = self._keys(request, credentials)
        return (
            self.cache.get(pair_key, 0) >= settings.LOGIN_FAILURE_LIMIT
            or self.cache.get(address_key, 0) >= settings.LOGIN_FAILURE_LIMIT_PER_IP
        )

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None:
            # axes compares the larger of the two counts with one limit; ours has two.
            request.axes_locked_out = self.is_locked(request, credentials)

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        self.forget_failures(request, {"email": user.get_username()})

    def forget_failures(self, request, credentials) -> None:
        """A success clears the failures of this email from this address, not the address's
        own count: a known account must not let an attacker reset it."""
        pair_key, _ = self._keys(request, credentials)
        self.cache.delete(pair_key)


def refuse_if_locked_out(request, email) -> None:
    if not AxesProxyHandler.is_allowed(request, {"email": email}):
        raise LockedOut(wait=settings.LOGIN_LOCKOUT_MINUTES * 60)


def login_succeeded(request, email) -> None:
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().forget_failures(request, {"email": email})
