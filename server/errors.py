"""Standard error bodies for code paths outside DRF's exception handling."""

from http.client import responses as reason_phrases

from django.http import JsonResponse
from rest_framework import status

from server.exceptions import PayloadTooLarge

# What Django itself can answer before or around a view (bad Host header, a body
# too large for form parsing, a middleware's 403/404), in the words DRF would use.
_BY_STATUS = {
    400: ("bad_request", "The request could not be processed."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: (PayloadTooLarge.default_code, PayloadTooLarge.default_detail),
}


def error_body(*, type_: str, code: str, detail: str, attr: str | None = None) -> dict:
    return {"type": type_, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def error_body_for_status(status_code: int) -> dict:
    if status_code >= 500:
        return error_body(type_="server_error", code="error", detail="A server error occurred.")
    phrase = reason_phrases.get(status_code, "Client error")
    code, detail = _BY_STATUS.get(status_code, ("error", f"{phrase}."))
    return error_body(type_="client_error", code=code, detail=detail)


def as_error_json(response) -> JsonResponse:
    """The standard body in place of a non-JSON error response (Django's HTML page or
    debug page), with the same status and the other headers (Allow, CORS, Vary...)."""
    replacement = JsonResponse(error_body_for_status(response.status_code), status=response.status_code)
    for header, value in response.items():
        if header.lower() not in ("content-type", "content-length"):
            replacement[header] = value
    replacement.cookies = response.cookies
    return replacement


def server_error_response() -> JsonResponse:
    return JsonResponse(
        error_body_for_status(status.HTTP_500_INTERNAL_SERVER_ERROR),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def payload_too_large_response() -> JsonResponse:
    return JsonResponse(
        error_body_for_status(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE),
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
