from rest_framework.authentication import BaseAuthentication


class PublicEndpoint(BaseAuthentication):
    """For endpoints that take credentials in the body (login, refresh, logout).

    It authenticates nobody, but answers the WWW-Authenticate challenge, so their
    failures are 401s as the contract says, not DRF's fallback 403.
    """

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
