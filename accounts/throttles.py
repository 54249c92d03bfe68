"""Throttles of the account flows that send mail or reveal whether an address is taken."""

from server.throttling import AuthIPThrottle, UserScopedThrottle


class EmailChangeThrottle(AuthIPThrottle):
    """An email change tells whether the new address is taken (the contract's "unique"), as
    registration does: both share the strict per-IP auth allowance. Name changes do not."""

    def get_cache_key(self, request, view):
        # Reading the body here raises its parse error (a 400) as the view would; a body that
        # is not an object (a number, a list) is the view's 400 too.
        data = request.data if request.method == "PATCH" else None
        changes_email = isinstance(data, dict) and "email" in data
        return super().get_cache_key(request, view) if changes_email else None


class EmailSendThrottle(UserScopedThrottle):
    """Messages an account asks to be sent to itself (verification links): the "email" scope."""

    scope = "email"
