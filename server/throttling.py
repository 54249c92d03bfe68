"""Throttles on the shared cache (CACHE_URL), keyed by client IP honouring NUM_PROXIES."""

from rest_framework import throttling
from rest_framework.settings import api_settings


def client_ip(request) -> str | None:
    """The client's address as the throttles see it (DRF's rule): REMOTE_ADDR, or with
    NUM_PROXIES > 0 the address that many proxies back in X-Forwarded-For. The login
    lockout (accounts/lockout.py) uses the same, so neither can be dodged differently."""
    meta = request.META
    forwarded, remote = meta.get("HTTP_X_FORWARDED_FOR"), meta.get("REMOTE_ADDR")
    proxies = api_settings.NUM_PROXIES
    if not proxies or not forwarded:
        return remote
    addresses = forwarded.split(",")
    return addresses[-min(proxies, len(addresses))].strip()


class _CurrentRates:
    """DRF copies DEFAULT_THROTTLE_RATES onto the class once, at import, so a settings
    override (a test's, or a reload) would be ignored; read the current settings instead."""

    @property
    def THROTTLE_RATES(self):
        return api_settings.DEFAULT_THROTTLE_RATES


class AnonRateThrottle(_CurrentRates, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_CurrentRates, throttling.UserRateThrottle):
    pass


class AuthIPThrottle(_CurrentRates, throttling.SimpleRateThrottle):
    """The strict "auth" scope for login, register and refresh, per client IP."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": f"{self.scope}-ip", "ident": self.get_ident(request)}


class UserScopedThrottle(_CurrentRates, throttling.SimpleRateThrottle):
    """A scope counted per signed-in user (subclasses set ``scope``)."""

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
