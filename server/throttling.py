"""Throttles on the shared cache (CACHE_URL), keyed by client IP honouring NUM_PROXIES."""

import hashlib

from rest_framework import throttling
from rest_framework.settings import api_settings

from accounts.models import normalise_email


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


class AuthEmailThrottle(_CurrentRates, throttling.SimpleRateThrottle):
    """The "auth" scope per email tried on login, so rotating IPs does not help."""

    scope = "auth"

    def get_cache_key(self, request, view):
        try:
            email = request.data.get("email")
        except AttributeError:
            return None
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {
            "scope": f"{self.scope}-email",
            "ident": hashlib.sha256(normalise_email(email).encode()).hexdigest(),
        }
