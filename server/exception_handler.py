"""The one error shape for /api/: drf-standardized-errors, plus the cases it misses."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import InvalidToken

from server.exceptions import PayloadTooLarge


class ApiExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc):
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, TooManyFieldsSent):
            return exceptions.ParseError("The request has too many fields.", code="too_many_fields")
        if isinstance(exc, InvalidToken):
            # simplejwt's detail is a nested dict naming every token class it tried;
            # collapse it to one clear error.
            detail = exc.detail
            message = detail.get("detail", "") if isinstance(detail, dict) else detail
            converted = exceptions.AuthenticationFailed(
                str(message) or "The token is invalid or expired.", code="token_not_valid"
            )
            converted.auth_header = getattr(exc, "auth_header", None)
            return converted
        return super().convert_known_exceptions(exc)
