"""The one error shape for /api/: drf-standardized-errors, plus the cases it misses."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import IntegrityError, OperationalError
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import DetailDictMixin

from server.exceptions import PayloadTooLarge, ServiceUnavailable
from server.integrity import as_api_error


class ApiExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc):
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, IntegrityError):
            return as_api_error(exc)
        if isinstance(exc, OperationalError) and "database is locked" in str(exc):
            # SQLite: another writer held the database longer than the connection waits.
            return ServiceUnavailable("The database is busy; try again in a moment.", code="database_busy")
        if isinstance(exc, TooManyFieldsSent):
            return exceptions.ParseError("The request has too many fields.", code="too_many_fields")
        if isinstance(exc, DetailDictMixin) and isinstance(exc, exceptions.AuthenticationFailed):
            return self._collapse_detail_dict(exc)
        return super().convert_known_exceptions(exc)

    def format_exception(self, exc):
        data = super().format_exception(exc)
        # The standard body first; what the error adds (server.exceptions.Conflict.extra) after.
        data.update({key: value for key, value in getattr(exc, "extra", {}).items() if key not in data})
        return data

    def get_headers(self, exc):
        headers = super().get_headers(exc)
        if getattr(exc, "etag", None):  # a 412 names the current version (server/conditional.py)
            headers["ETag"] = exc.etag
        return headers

    @staticmethod
    def _collapse_detail_dict(exc):
        """simplejwt's AuthenticationFailed and InvalidToken carry a dict detail
        ({"detail", "code", "messages"}) that would be split into one error per key;
        turn it into the single error it describes, keeping its code."""
        detail = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
        message = str(detail.get("detail") or exc.default_detail)
        code = str(detail.get("code") or exc.default_code)
        converted = exceptions.AuthenticationFailed(message, code=code)
        converted.status_code = exc.status_code
        converted.auth_header = getattr(exc, "auth_header", None)
        return converted
