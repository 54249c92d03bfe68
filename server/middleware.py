import logging

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404
from django.http.multipartparser import MultiPartParserError

from server.conditional import CACHE_CONTROL
from server.errors import as_error_json, payload_too_large_response, server_error_response

logger = logging.getLogger("server.errors")

# Exceptions Django answers with a 4xx of its own; they are not server errors.
_DJANGO_CLIENT_ERRORS = (Http404, PermissionDenied, SuspiciousOperation, BadRequest, MultiPartParserError)


def _security_headers() -> list[tuple[str, str]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add, for the /api/ responses that
    never pass them: a CORS preflight (CorsMiddleware answers it before XFrameOptions runs),
    the body-size 413 and anything else a middleware answers on its own."""
    headers = [("X-Frame-Options", settings.X_FRAME_OPTIONS)]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    return headers


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


def is_json(response) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class ApiResponseMiddleware:
    """Keeps /api/ responses JSON and uncached. First in MIDDLEWARE, so it also sees
    what the other middleware answer (a bad Host header, an HTTPS redirect).

    - Every error under /api/ has the standard body, debug on or off: Django's HTML
      pages (404, 400, the debug traceback page) are replaced, keeping the status.
    - An exception that escapes a view is a JSON 500, and a body too large for
      Django's form parsing a JSON 413: no traceback page ever reaches an API client.
    - API responses carry Cache-Control: private, no-store; they hold private money data.
    - API responses carry X-Frame-Options, X-Content-Type-Options and Referrer-Policy even when
      a middleware answered before the ones that add them had run.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not is_api_path(request.path_info):
            return response
        if response.status_code >= 400 and not is_json(response):
            response = as_error_json(response)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = CACHE_CONTROL
        for header, value in _security_headers():
            response.headers.setdefault(header, value)
        return response

    def process_exception(self, request, exception):
        if not is_api_path(request.path_info):
            return None
        if isinstance(exception, RequestDataTooBig):
            return payload_too_large_response()
        if isinstance(exception, _DJANGO_CLIENT_ERRORS):
            return None  # Django's 4xx, turned into the standard body on the way out
        logger.exception("Unhandled error on %s %s", request.method, request.path_info)
        return server_error_response()


class ApiBodyLimitMiddleware:
    """A request body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 on every /api/ route, by its
    Content-Length, before any view runs: Django checks the limit only when a view reads the
    body, so a route that takes none (leave, accept) would otherwise take any size. After
    CorsMiddleware in MIDDLEWARE, so an allowed origin can read the 413.

    Multipart bodies are left to Django's parser, which applies the limit to their fields, and
    to the CSV import's own 5 MB limit on its file (files do not count towards the setting).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_path(request.path_info) and self._too_large(request):
            return payload_too_large_response()
        return self.get_response(request)

    @staticmethod
    def _too_large(request) -> bool:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or request.content_type == "multipart/form-data":
            return False
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False  # Django reads an unreadable length as no body
        return length > limit
