"""The API's authentication: simplejwt's access tokens, checked once per request.

The Idempotency-Key middleware has to know who is calling before the view runs (the key is
the caller's own), and the view's DRF Request authenticates again. Each would decode the
token, read the user and compare the password's hash (simplejwt's revocation check); this
class does it once and keeps the outcome on the Django request that both share, so the
view's Request gets the same user and token without another decode or query.

Nothing outlives the request: a token revoked by a password change, a deactivation or a
deletion is refused from the next request on, as before. A failure is not kept (the next
authenticator call raises it again; only success is worth sparing).
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication

from accounts.models import User
from server.compiled import compiled_instance

_SETTLED = "_jwt_authentication"


class _CallerLookup:
    """What simplejwt's get_user() asks of the user model — ``objects.get(id=...)`` and
    ``DoesNotExist`` — answered with the user query compiled once per process, so
    simplejwt's own checks (active, revoked by a password change) still decide."""

    DoesNotExist = User.DoesNotExist

    class objects:
        @staticmethod
        def get(**lookup):
            # simplejwt passes {USER_ID_FIELD: the token's user id}, which a token may carry
            # as text; the compiled query takes it as the id column's integer.
            ((field, value),) = lookup.items()
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise User.DoesNotExist from None
            user = compiled_instance(
                ("jwt-caller", field),
                User,
                lambda placeholder: User.objects.filter(**{field: placeholder}),
                value,
            )
            if user is None:
                raise User.DoesNotExist
            return user


class JWTAuthentication(authentication.JWTAuthentication):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_model = _CallerLookup

    def authenticate(self, request):
        http_request = request._request
        header = self.get_header(request)
        settled = getattr(http_request, _SETTLED, None)
        if settled is not None and settled[0] == header:
            return settled[1]
        user_and_token = super().authenticate(request)
        if user_and_token is not None:
            setattr(http_request, _SETTLED, (header, user_and_token))
        return user_and_token


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The schema's bearer scheme (jwtAuth) for this class, as drf-spectacular gives
    simplejwt's own."""

    target_class = "accounts.authentication.JWTAuthentication"
