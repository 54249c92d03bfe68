import logging

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404
from django.http.multipartparser import MultiPartParserError

from server.errors import as_error_json, payload_too_large_response, server_error_response

logger = logging.getLogger("server.errors")

# Exceptions Django answers with a 4xx of its own; they are not server errors.
_DJANGO_CLIENT_ERRORS = (Http404, PermissionDenied, SuspiciousOperation, BadRequest, MultiPartParserError)


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
    - API responses carry Cache-Control: no-store; they hold private money data.
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
            response["Cache-Control"] = "no-store"
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
