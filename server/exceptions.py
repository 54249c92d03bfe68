"""The project's own API exceptions, each with a stable code."""

from rest_framework import exceptions, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this API accepts."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    """The request is well formed but clashes with the current state (409). ``extra``: keys
    the error body carries beside "type" and "errors" (say, the balances that block a
    departure), documented by the operation's own 409 schema."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, *, extra: dict | None = None):
        super().__init__(detail, code)
        self.extra = extra or {}


class Gone(exceptions.APIException):
    """What the client asks about is no longer kept (410): say, deletions older than the
    retention, for a delta sync that starts too far back."""

    status_code = status.HTTP_410_GONE
    default_detail = "What this request asks about is no longer kept."
    default_code = "gone"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable."
    default_code = "service_unavailable"
