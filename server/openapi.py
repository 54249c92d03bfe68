"""OpenAPI pieces for the error responses drf-standardized-errors does not describe
itself: our 401 codes (simplejwt's), 409, 413 and 503, the codes of a bad page or of a
malformed upload, and list-item attrs ("0.amount")."""

import re

from django.db import models
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from drf_standardized_errors.settings import package_settings
from inflection import camelize
from rest_framework import serializers

from server.pagination import PAGINATION_ERROR_CODES, LimitOffsetPagination

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


class ErrorCode403Enum(models.TextChoices):
    PERMISSION_DENIED = "permission_denied"
    # households/services.py: the roles only a household's owner gives
    ONLY_OWNER_INVITES_ADMINS = "only_owner_invites_admins"
    ONLY_OWNER_CHANGES_ROLES = "only_owner_changes_roles"


class ErrorCode429Enum(models.TextChoices):
    THROTTLED = "throttled"
    LOCKED_OUT = "locked_out"  # accounts/lockout.py


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class ErrorCode409Enum(models.TextChoices):
    CONFLICT = "conflict"
    # A concurrent request changed what this one depended on; nothing was written.
    CONCURRENT_CHANGE = "concurrent_change"
    CURRENCY_CHANGED = "currency_changed"
    ONE_OWNER = "one_owner"
    OWNER_MUST_TRANSFER = "owner_must_transfer"
    ALREADY_MEMBER = "already_member"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_DECLINED = "invitation_declined"
    INVITATION_REVOKED = "invitation_revoked"
    INVITATION_EXPIRED = "invitation_expired"


class ErrorCode413Enum(models.TextChoices):
    PAYLOAD_TOO_LARGE = "payload_too_large"
    FILE_TOO_LARGE = "file_too_large"
    TOO_MANY_ROWS = "too_many_rows"


class ErrorCode503Enum(models.TextChoices):
    IMPORT_TIMEOUT = "import_timeout"
    SERVICE_UNAVAILABLE = "service_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    DATABASE_BUSY = "database_busy"


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
ErrorResponse403Serializer = _error_response_serializer(403, ErrorCode403Enum, ClientErrorEnum)
ErrorResponse409Serializer = _error_response_serializer(409, ErrorCode409Enum, ClientErrorEnum)
ErrorResponse429Serializer = _error_response_serializer(429, ErrorCode429Enum, ClientErrorEnum)
ErrorResponse413Serializer = _error_response_serializer(413, ErrorCode413Enum, ClientErrorEnum)
ErrorResponse503Serializer = _error_response_serializer(503, ErrorCode503Enum, ServerErrorEnum)


# A 400 "client_error" (a body the parser refused) says "parse_error"; a view that parses
# more (the CSV import) lists its own codes with @action(parse_error_codes=[...]).
DEFAULT_PARSE_ERROR_CODES = ("parse_error",)


def _parse_error_response_serializer(operation_id: str, codes: tuple[str, ...]):
    # The "ErrorComponent" suffix keeps drf-standardized-errors' enum hook off its code list.
    name = camelize(operation_id)
    error = type(
        f"{name}ParseErrorComponentSerializer",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=[(code, code) for code in codes]),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
            "__module__": __name__,
        },
    )
    return type(
        f"{name}ParseErrorResponseSerializer",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=ClientErrorEnum.choices),
            "errors": error(many=True),
            "__module__": __name__,
        },
    )


class AutoSchema(StandardizedErrorsAutoSchema):
    """drf-standardized-errors' schema, told what else our endpoints answer.

    - 409 is documented only where a view declares it (extend_schema responses={409: ...}):
      a conflict is a property of the operation, not of every endpoint.
    - 413 is documented for the methods that carry a body.
    - Paginated lists answer a bad ``limit`` or ``offset`` with a 400 naming it.
    - An optional query parameter sent empty (``?kind=``) means the same as leaving it out
      (``allowEmptyValue``), as django-filter reads it.
    - A field may list the codes its serializer's validate() raises for it
      (``schema_error_codes``, e.g. MoneyInputField's "max_decimal_places").
    - A view may list the 400 "client_error" codes its parsing raises (``parse_error_codes``).
    """

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "409":
            return False
        if status_code == "413" and self.method not in _BODY_METHODS:
            return False
        return super()._should_add_error_response(responses, status_code)

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            # django-filter, the pagination and the reports read an empty value as a
            # parameter left out.
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

    def _paginates(self) -> bool:
        return self._is_list_view() and isinstance(self._get_paginator(), LimitOffsetPagination)

    def _get_extra_validation_errors(self):
        extra = {name: set(codes) for name, codes in super()._get_extra_validation_errors().items()}
        if self._paginates():
            paginator = self._get_paginator()
            for name in (paginator.limit_query_param, paginator.offset_query_param):
                extra.setdefault(name, set()).update(PAGINATION_ERROR_CODES)
        return extra

    def _determine_fields_with_error_codes(self):
        fields = super()._determine_fields_with_error_codes()
        for field in fields:
            field.error_codes.update(getattr(field.field, "schema_error_codes", ()))
        return fields

    def _get_http400_serializer(self):
        proxy = super()._get_http400_serializer()
        codes = tuple(getattr(self.view, "parse_error_codes", None) or DEFAULT_PARSE_ERROR_CODES)
        client_error = ClientErrorEnum.CLIENT_ERROR.value
        if codes != DEFAULT_PARSE_ERROR_CODES and client_error in proxy.serializers:
            proxy.serializers[client_error] = _parse_error_response_serializer(self.get_operation_id(), codes)
        return proxy


def postprocess_validation_error_attrs(result, generator, request, public):
    """drf-standardized-errors names a list item's field "INDEX.amount" and tells the kinds of
    error apart with a discriminator on "attr". The API says "0.amount", and says null for an
    error about the whole body, neither of which a discriminator can map. Where those occur,
    the union stays a plain oneOf (each member still pins its attr), and "INDEX" becomes a
    pattern matching any item number."""
    schemas = result.get("components", {}).get("schemas", {})
    index = package_settings.LIST_INDEX_IN_API_SCHEMA
    separator = package_settings.NESTED_FIELD_SEPARATOR
    for union in schemas.values():
        discriminator = union.get("discriminator") or {}
        if discriminator.get("propertyName") != "attr":
            continue
        members = [schemas[ref.rsplit("/", 1)[-1]] for ref in discriminator.get("mapping", {}).values()]
        attrs = [member["properties"]["attr"] for member in members]
        has_index = any(
            index in str(value).split(separator) for attr in attrs for value in attr.get("enum", [])
        )
        has_null = any(attr.get("nullable") or (None in attr.get("enum", [])) for attr in attrs)
        if not (has_index or has_null):
            continue
        del union["discriminator"]
        for attr in attrs:
            values = attr.get("enum", [])
            if len(values) == 1 and index in str(values[0]).split(separator):
                parts = [
                    "[0-9]+" if part == index else re.escape(part) for part in values[0].split(separator)
                ]
                attr.pop("enum")
                attr["pattern"] = "^" + re.escape(separator).join(parts) + "$"
    return result


# OpenAPI links: what a client (and schemathesis' state machine) can do next with the object a
# request just created. operationId of the source -> status -> link name -> link.
_CREATED_ID = "$response.body#/id"


def _on_created(*operation_ids: str) -> dict:
    return {
        camelize(operation_id): {"operationId": operation_id, "parameters": {"path.id": _CREATED_ID}}
        for operation_id in operation_ids
    }


LINKS = {
    "budgets_create": {
        "201": {
            **_on_created(
                "budgets_retrieve",
                "budgets_update",
                "budgets_partial_update",
                "budgets_destroy",
                "budgets_summary_retrieve",
                "budgets_report_monthly_retrieve",
                "budgets_shares_list",
            ),
            "CategoriesCreate": {"operationId": "categories_create", "requestBody": {"budget": _CREATED_ID}},
            "TransactionsCreate": {
                "operationId": "transactions_create",
                "requestBody": {"budget": _CREATED_ID},
            },
            "AdminGrantsCreate": {
                "operationId": "admin_grants_create",
                "requestBody": {"budget": _CREATED_ID},
            },
        }
    },
    "categories_create": {
        "201": {
            **_on_created("categories_retrieve", "categories_partial_update", "categories_destroy"),
            "TransactionsCreate": {
                "operationId": "transactions_create",
                "requestBody": {"budget": "$response.body#/budget", "category": _CREATED_ID},
            },
        }
    },
    "transactions_create": {
        "201": _on_created(
            "transactions_retrieve",
            "transactions_update",
            "transactions_partial_update",
            "transactions_destroy",
        )
    },
    "households_create": {
        "201": _on_created(
            "households_retrieve",
            "households_partial_update",
            "households_destroy",
            "households_members_list",
            "households_invitations_list",
            "households_invitations_create",
        )
    },
    "households_invitations_create": {
        "201": {
            "HouseholdsInvitationsDestroy": {
                "operationId": "households_invitations_destroy",
                "parameters": {"path.id": "$request.path.id", "path.invitation_id": _CREATED_ID},
            }
        }
    },
    "admin_grants_create": {
        "201": {
            "AdminGrantsDestroy": {
                "operationId": "admin_grants_destroy",
                "parameters": {"path.id": _CREATED_ID},
            }
        }
    },
}


def postprocess_links(result, generator, request, public):
    """Adds LINKS to the responses they start from (drf-spectacular has no links of its own)."""
    operations = {
        operation["operationId"]: operation
        for path in result.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for source, by_status in LINKS.items():
        if source not in operations:
            continue  # a schema generated for part of the API
        for status, links in by_status.items():
            targets = {name: link for name, link in links.items() if link["operationId"] in operations}
            if targets:
                operations[source]["responses"][status].setdefault("links", {}).update(targets)
    return result
