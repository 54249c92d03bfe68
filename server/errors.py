"""Standard error bodies for code paths outside DRF's exception handling."""

from django.http import JsonResponse
from rest_framework import status


def error_body(*, type_: str, code: str, detail: str, attr: str | None = None) -> dict:
    return {"type": type_, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def server_error_response() -> JsonResponse:
    return JsonResponse(
        error_body(type_="server_error", code="error", detail="A server error occurred."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
