"""Throttles on the shared cache (CACHE_URL), keyed by client IP honouring NUM_PROXIES."""

import hashlib

from rest_framework import throttling

from accounts.models import normalise_email


class AnonRateThrottle(throttling.AnonRateThrottle):
    pass


class UserRateThrottle(throttling.UserRateThrottle):
    pass


class AuthIPThrottle(throttling.SimpleRateThrottle):
    """The strict "auth" scope for login, register and refresh, per client IP."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": f"{self.scope}-ip", "ident": self.get_ident(request)}


class AuthEmailThrottle(throttling.SimpleRateThrottle):
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
