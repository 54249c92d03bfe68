"""The schema machinery: the error responses drf-standardized-errors does not describe
itself (401, 403, 409, 412, 413, 428, 429 and 503 codes, If-Match and ETag, the codes of a
bad page or of a malformed upload, list-item attrs like "0.amount") and the OpenAPI links.
The codes and links of each app are registered by the app, next to its views
(document_error_codes, document_links)."""

import json
import re

from django import forms
from drf_spectacular.drainage import warn
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from drf_standardized_errors.settings import package_settings
from inflection import camelize
from rest_framework import serializers

from server.pagination import PAGINATION_ERROR_CODES, LimitOffsetPagination

_BODY_METHODS = ("POST", "PUT", "PATCH")
# The actions of a versioned viewset (server.conditional.ETagMixin) that honour If-Match:
# an object's, a member's (households) and a share's (budgets).
_CONDITIONAL_ACTIONS = (
    "update",
    "partial_update",
    "destroy",
    "member",
    "remove_member",
    "share_user",
    "unshare_user",
    "share_household",
    "unshare_household",
)
# Of those, the PUTs that create what does not exist yet, which also take If-None-Match: *.
_CREATING_ACTIONS = ("share_user", "share_household")

IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'The ETag you read ("<id>-<version>"), or "*": the change is made only if the item '
    "is still that version (412 otherwise; 428 without it where the server requires it).",
    "schema": {"type": "string"},
}
ETAG_HEADER = {
    "ETag": {
        "description": 'The version of the object in the body: "<id>-<version>" (a share\'s: '
        '"<grantee_type><grantee id>-<version>").',
        "schema": {"type": "string"},
    }
}
GET_ETAG_HEADER = {
    "ETag": {
        "description": 'The version of this answer: an object\'s "<id>-<version>", otherwise a tag over '
        "the body (a list's: its items, their versions and the count). Send it back in If-None-Match.",
        "schema": {"type": "string"},
    }
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the answer you keep: 304 Not Modified, with no body, while it is still "
    "current; the full answer otherwise (a malformed value is ignored).",
    "schema": {"type": "string"},
}
IF_NONE_MATCH_CREATE = {
    **IF_NONE_MATCH,
    "description": '"*": create it only if it does not exist yet (412 otherwise). Not with If-Match.',
}
NOT_MODIFIED = {
    "description": "Not Modified: the answer you keep (its ETag in If-None-Match) is still current.",
    "headers": GET_ETAG_HEADER,
}


class ErrorCodes:
    """The error codes documented for one status, whatever route answers it: the framework's
    here, the rest registered by each app next to the views that answer them
    (``document_error_codes(409, "owner_must_transfer", ...)``). The schema reads the list when
    it is generated, after every views module has been imported: ENUM_NAME_OVERRIDES calls
    the object, and the error serializer's ChoiceField holds the live list, which DRF copies
    each time it builds the field."""

    def __init__(self, *codes: str):
        self.codes = list(codes)

    def add(self, *codes: str) -> None:
        self.codes.extend(code for code in codes if code not in self.codes)

    def __call__(self) -> list[tuple[str, str]]:
        return [(code, code) for code in self.codes]


ERROR_CODES = {
    # simplejwt's, for every route that reads a bearer token
    401: ErrorCodes(
        "not_authenticated",
        "authentication_failed",
        "bad_authorization_header",
        "token_not_valid",
        "user_not_found",
        "user_inactive",
    ),
    403: ErrorCodes("permission_denied"),
    # server/integrity.py: a clash with a concurrent write, nothing written
    409: ErrorCodes("conflict", "concurrent_change"),
    # server/exceptions.py Gone: registered by the routes that answer it
    410: ErrorCodes(),
    # server/conditional.py: If-Match on a versioned object
    412: ErrorCodes("precondition_failed"),
    413: ErrorCodes("payload_too_large"),
    422: ErrorCodes(),
    428: ErrorCodes("precondition_required"),
    429: ErrorCodes("throttled"),
    503: ErrorCodes("service_unavailable", "database_unavailable", "database_busy"),
}


# For ENUM_NAME_OVERRIDES (server/api_schema_settings.py), which names them by import path.
ErrorCodes401, ErrorCodes403, ErrorCodes409 = ERROR_CODES[401], ERROR_CODES[403], ERROR_CODES[409]
ErrorCodes413, ErrorCodes429, ErrorCodes503 = ERROR_CODES[413], ERROR_CODES[429], ERROR_CODES[503]
ErrorCodes412, ErrorCodes422, ErrorCodes428 = ERROR_CODES[412], ERROR_CODES[422], ERROR_CODES[428]
ErrorCodes410 = ERROR_CODES[410]


def document_error_codes(status: int, *codes: str) -> None:
    ERROR_CODES[status].add(*codes)


# Request headers an app honours on every operation of one method, outside the views (the
# idempotency middleware's Idempotency-Key on POST), and what they add to each operation.
METHOD_HEADERS: list[dict] = []


def document_method_header(
    *,
    method: str,
    parameter: dict,
    exempt_paths=(),
    error_statuses=(),
    parse_codes=(),
    response_headers=None,
) -> None:
    """``parameter``: the OpenAPI header parameter; ``error_statuses``: statuses it can answer
    (their codes registered with document_error_codes); ``parse_codes``: its 400 codes;
    ``response_headers``: headers of its 2xx answers."""
    METHOD_HEADERS.append(
        {
            "method": method,
            "parameter": parameter,
            "exempt_paths": tuple(exempt_paths),
            "error_statuses": tuple(str(status) for status in error_statuses),
            "parse_codes": tuple(parse_codes),
            "response_headers": response_headers or {},
        }
    )


def _has_version(serializer) -> bool:
    """Whether an answer's body is one versioned object (ETagMixin sends its ETag)."""
    if isinstance(serializer, type) and issubclass(serializer, serializers.BaseSerializer):
        serializer = serializer()
    return isinstance(serializer, serializers.Serializer) and "version" in serializer.fields


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


def _error_response_serializer(status_code: int, type_enum):
    error = type(
        f"Error{status_code}Serializer",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=ERROR_CODES[status_code].codes),
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


ErrorResponse401Serializer = _error_response_serializer(401, ClientErrorEnum)
ErrorResponse403Serializer = _error_response_serializer(403, ClientErrorEnum)
ErrorResponse409Serializer = _error_response_serializer(409, ClientErrorEnum)
ErrorResponse410Serializer = _error_response_serializer(410, ClientErrorEnum)
ErrorResponse412Serializer = _error_response_serializer(412, ClientErrorEnum)
ErrorResponse413Serializer = _error_response_serializer(413, ClientErrorEnum)
ErrorResponse422Serializer = _error_response_serializer(422, ClientErrorEnum)
ErrorResponse428Serializer = _error_response_serializer(428, ClientErrorEnum)
ErrorResponse429Serializer = _error_response_serializer(429, ClientErrorEnum)
ErrorResponse503Serializer = _error_response_serializer(503, ServerErrorEnum)


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


def _document_ordering(parameter: dict) -> None:
    """django-filter's OrderingFilter, as it reads the parameter: comma-separated keys, an
    empty one skipped (``ordering=date,``), so the empty string is one of the values."""
    items = parameter["schema"]["items"]
    keys = [key for key in items.get("enum", []) if key and not key.startswith("-")]
    if not keys:
        return
    if "" not in items["enum"]:
        items["enum"].append("")
    parameter["description"] = (
        f'Sort keys, comma-separated: {", ".join(keys)}; a leading "-" sorts descending '
        f"(e.g. `-{keys[-1]},{keys[0]}`). Ties are broken by id."
    )


class AutoSchema(StandardizedErrorsAutoSchema):
    """drf-standardized-errors' schema, told what else our endpoints answer.

    - 409 is documented only where a view declares it (extend_schema responses={409: ...}):
      a conflict is a property of the operation, not of every endpoint.
    - 413 is documented for the methods that carry a body.
    - Paginated lists answer a bad ``limit`` or ``offset`` with a 400 naming it.
    - An optional query parameter sent empty (``?kind=``) means the same as leaving it out
      (``allowEmptyValue``), as django-filter reads it; so does an empty sort key.
    - A field may list the codes its serializer's validate() raises for it
      (``schema_error_codes``, e.g. MoneyInputField's "max_decimal_places").
    - A view may list the 400 "client_error" codes its parsing raises (``parse_error_codes``).
    """

    def _method_headers(self) -> list[dict]:
        return [
            rule
            for rule in METHOD_HEADERS
            if rule["method"] == self.method and self.path not in rule["exempt_paths"]
        ]

    def _conditional(self) -> bool:
        return (
            getattr(self.view, "versioned", False)
            and getattr(self.view, "action", None) in _CONDITIONAL_ACTIONS
        )

    def _conditional_get(self) -> bool:
        """A GET answered in JSON: server.conditional.ConditionalGetMiddleware gives its 200 an
        ETag and answers If-None-Match with 304. A streamed answer (``streamed_actions``, the
        CSV export) has neither."""
        return self.method == "GET" and getattr(self.view, "action", None) not in getattr(
            self.view, "streamed_actions", ()
        )

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction == "response" and self._conditional_get() and "200" in responses:
            headers = responses["200"].setdefault("headers", {})
            if "ETag" not in headers:
                headers.update(GET_ETAG_HEADER)
            responses["304"] = NOT_MODIFIED
        return responses

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if any(status_code in rule["error_statuses"] for rule in self._method_headers()):
            return super()._should_add_error_response(responses, status_code)
        if status_code in ("409", "422"):
            return False
        if status_code in ("412", "428"):
            return self._conditional()
        if status_code == "413" and self.method not in _BODY_METHODS:
            return False
        return super()._should_add_error_response(responses, status_code)

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if status_code in ("200", "201") and _has_version(serializer) and not self._is_list_view():
            response.setdefault("headers", {}).update(ETAG_HEADER)
        if status_code == "412":
            response.setdefault("headers", {}).update(ETAG_HEADER)
        # Headers a view names for an action's successful answers (``response_headers``).
        extra = getattr(self.view, "response_headers", {}).get(getattr(self.view, "action", None))
        if extra and str(status_code).startswith("2"):
            response.setdefault("headers", {}).update(extra)
        return response

    def _get_parameters(self):
        parameters = super()._get_parameters()
        if self._conditional():
            parameters.append(IF_MATCH)
            if self.view.action in _CREATING_ACTIONS:
                parameters.append(IF_NONE_MATCH_CREATE)
        if self._conditional_get():
            parameters.append(IF_NONE_MATCH)
        parameters.extend(rule["parameter"] for rule in self._method_headers())
        for parameter in parameters:
            # django-filter, the pagination and the reports read an empty value as a
            # parameter left out.
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
            if parameter["name"] == "ordering" and parameter["schema"].get("type") == "array":
                _document_ordering(parameter)
        return parameters

    def _paginates(self) -> bool:
        return self._is_list_view() and isinstance(self._get_paginator(), LimitOffsetPagination)

    def _get_extra_validation_errors(self):
        extra = {name: set(codes) for name, codes in super()._get_extra_validation_errors().items()}
        if self._paginates():
            paginator = self._get_paginator()
            for name in (paginator.limit_query_param, paginator.offset_query_param):
                extra.setdefault(name, set()).update(PAGINATION_ERROR_CODES)
            for name, codes in getattr(paginator, "schema_error_codes", {}).items():
                extra.setdefault(name, set()).update(codes)
        return extra

    def _determine_fields_with_error_codes(self):
        fields = super()._determine_fields_with_error_codes()
        for field in fields:
            field.error_codes.update(getattr(field.field, "schema_error_codes", ()))
            if isinstance(field.field, forms.ModelChoiceField):
                # An id filter looks the value up; a NUL in it is refused before the lookup.
                field.error_codes.add("null_characters_not_allowed")
        return fields

    def _get_http400_serializer(self):
        proxy = super()._get_http400_serializer()
        codes = tuple(getattr(self.view, "parse_error_codes", None) or DEFAULT_PARSE_ERROR_CODES)
        if self._conditional():
            codes = (*codes, "invalid_if_match")
        for rule in self._method_headers():
            codes = (*codes, *rule["parse_codes"])
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
# request just created. Each app registers its own next to its views (document_links):
# operationId of the source -> status -> link name -> link.
LINKS: dict[str, dict[str, dict]] = {}
CREATED_ID = "$response.body#/id"


def on_created(*operation_ids: str) -> dict:
    """Links that pass the created object's id as the path's ``id``."""
    return {
        camelize(operation_id): {"operationId": operation_id, "parameters": {"path.id": CREATED_ID}}
        for operation_id in operation_ids
    }


def document_links(links: dict[str, dict[str, dict]]) -> None:
    for source, by_status in links.items():
        for status, named in by_status.items():
            LINKS.setdefault(source, {}).setdefault(status, {}).update(named)


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


# (component, property) -> the only value that property takes: a oneOf's members told apart
# by a flag (a row or its tombstone) must say so, or a row matches both (pin_values).
PINNED: dict[tuple[str, str], object] = {}


def pin_values(pins: dict[tuple[str, str], object]) -> None:
    PINNED.update(pins)


def postprocess_pinned_values(result, generator, request, public):
    """Gives each pinned property its one value (an enum of one), after the enum hooks ran so
    that no enum component is made of it."""
    schemas = result.get("components", {}).get("schemas", {})
    for (component, name), value in PINNED.items():
        prop = schemas.get(component, {}).get("properties", {}).get(name)
        if prop is not None:
            prop.pop("allOf", None)
            prop.pop("$ref", None)
            prop["enum"] = [value]
    return result


_REF = "#/components/schemas/"


_UNION_SUFFIXES = ("Error", "ValidationError", "ErrorResponse400")


# What drf-standardized-errors and this module name their error components; a model may
# say "Error" too, and is then told apart by not matching these endings.
_ERROR_COMPONENT = re.compile(
    r"(ErrorComponent|ValidationError|ErrorResponse\d*|^Error\d*|ErrorCode\d+Enum|ParseError\w*|ErrorEnum)$"
)


def is_error_component(name: str, prefixes=()) -> bool:
    """``prefixes``: the camelized operation ids, for an operation's own union ("{Op}Error")."""
    return bool(_ERROR_COMPONENT.search(name)) or (
        name.endswith("Error") and any(name == f"{prefix}Error" for prefix in prefixes)
    )


def _operation_prefixes(result) -> list[str]:
    """The camelized operation ids, longest first, which drf-standardized-errors puts in
    front of each per-operation error component's name."""
    ids = {
        camelize(operation["operationId"])
        for path in result.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    return sorted(ids, key=len, reverse=True)


def _rename_refs(node, renamed: dict[str, str]):
    """``node`` with every reference to a renamed component (a $ref, or a discriminator
    mapping's target) pointing at its new name."""
    if isinstance(node, dict):
        return {key: _rename_refs(value, renamed) for key, value in node.items()}
    if isinstance(node, list):
        return [_rename_refs(item, renamed) for item in node]
    if isinstance(node, str) and node.startswith(_REF) and node[len(_REF) :] in renamed:
        return _REF + renamed[node[len(_REF) :]]
    return node


def postprocess_merge_error_components(result, generator, request, public):
    """drf-standardized-errors writes a set of error components for every operation (its
    400 union, the validation error, one component per field with its codes), most of them
    identical from one operation to the next. Identical ones become one component, named
    after what they describe without the operation ("LimitErrorComponent"), or after the
    first of them where that name is taken; repeated until nothing more merges, since two
    unions become identical once their members are. Each field keeps its exact codes: only
    components equal in every respect are merged. The models then come first, the errors
    after them."""
    schemas = result.get("components", {}).get("schemas", {})
    prefixes = _operation_prefixes(result)
    renamed: dict[str, str] = {}  # merged name -> the name that stands for it
    while True:
        groups: dict[str, list[str]] = {}
        for name in sorted(schemas):
            if is_error_component(name, prefixes):
                body = json.dumps(_rename_refs(schemas[name], renamed), sort_keys=True)
                groups.setdefault(body, []).append(name)
        merges = [names for names in groups.values() if len(names) > 1]
        if not merges:
            break
        for names in merges:
            suffixes = {next((n[len(p) :] for p in prefixes if n.startswith(p)), n) for n in names}
            generic = suffixes.pop() if len(suffixes) == 1 else None
            # A field's component reads well without its operation; a union ("Error",
            # "ValidationError") would not say which fields it holds, so it keeps a full name.
            named = (
                generic
                and generic not in _UNION_SUFFIXES
                and generic not in schemas
                and generic not in renamed
            )
            keep = generic if named else names[0]
            schemas[keep] = schemas[names[0]]
            for name in names:
                if name != keep:
                    del schemas[name]
                    renamed[name] = keep
        # A name merged earlier may now stand for one merged since.
        for name, target in renamed.items():
            while target in renamed:
                target = renamed[target]
            renamed[name] = target
    result = _rename_refs(result, renamed)
    schemas = result["components"]["schemas"]
    ordered = sorted(schemas, key=lambda name: (is_error_component(name, prefixes), name))
    result["components"]["schemas"] = {name: schemas[name] for name in ordered}
    return result


def postprocess_require_operation_docs(result, generator, request, public):
    """Every operation says what it does: a summary and a description of its own (a viewset's
    docstring, which drf-spectacular gives each action that has none, would repeat one text
    for all of them). A warning, so ``spectacular --fail-on-warn`` and the tests fail."""
    seen: dict[str, str] = {}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            where = f"{method.upper()} {path}"
            for key in ("summary", "description"):
                if not (operation.get(key) or "").strip():
                    warn(f"{where} has no {key}: give it one with extend_schema({key}=...)")
            description = operation.get("description")
            if description and description in seen:
                warn(f"{where} repeats the description of {seen[description]}: give it its own")
            seen.setdefault(description, where)
    return result
