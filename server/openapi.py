"""OpenAPI pieces for the error responses drf-standardized-errors does not describe
itself: our 401 codes (simplejwt's), 409, 413 and 503."""

from django.db import models
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from rest_framework import serializers

_BODY_METHODS = ("POST", "PUT", "PATCH")


class ErrorCode401Enum(models.TextChoices):
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    TOKEN_NOT_VALID = "token_not_valid"
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"
    PASSWORD_CHANGED = "password_changed"
    NO_ACTIVE_ACCOUNT = "no_active_account"


class ErrorCode409Enum(models.TextChoices):
    CONFLICT = "conflict"


class ErrorCode413Enum(models.TextChoices):
    PAYLOAD_TOO_LARGE = "payload_too_large"


class ErrorCode503Enum(models.TextChoices):
    SERVICE_UNAVAILABLE = "service_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"


def _error_response_serializer(status_code: int, codes: type[models.TextChoices], type_enum):
    error = type(
        f"Error{status_code}Serializer",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=codes.choices),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )
    return type(
        f"ErrorResponse{status_code}Serializer",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=type_enum.choices),
            "errors": error(many=True),
            "__module__": __name__,
        },
    )


ErrorResponse401Serializer = _error_response_serializer(401, ErrorCode401Enum, ClientErrorEnum)
ErrorResponse409Serializer = _error_response_serializer(409, ErrorCode409Enum, ClientErrorEnum)
ErrorResponse413Serializer = _error_response_serializer(413, ErrorCode413Enum, ClientErrorEnum)
ErrorResponse503Serializer = _error_response_serializer(503, ErrorCode503Enum, ServerErrorEnum)


class AutoSchema(StandardizedErrorsAutoSchema):
    """drf-standardized-errors' schema, told which endpoints can answer 409 and 413.

    - 409 is documented only where a view declares it (extend_schema responses={409: ...}):
      a conflict is a property of the operation, not of every endpoint.
    - 413 is documented for the methods that carry a body.
    """

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "409":
            return False
        if status_code == "413" and self.method not in _BODY_METHODS:
            return False
        return super()._should_add_error_response(responses, status_code)
