import logging

from server.errors import server_error_response

logger = logging.getLogger("server.errors")


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class ApiResponseMiddleware:
    """Keeps /api/ responses JSON and uncached.

    - An exception that escapes a view is a JSON 500 with the standard body, even
      with debug on: no traceback page ever reaches an API client.
    - API responses carry Cache-Control: no-store; they hold private money data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api_path(request.path_info) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response

    def process_exception(self, request, exception):
        if not is_api_path(request.path_info):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path_info)
        return server_error_response()
