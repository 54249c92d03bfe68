"""Conditional writes (RFC 9110 section 13.1.1, If-Match; RFC 6585 section 3, 428).

A versioned object's ETag is ``"<id>-<version>"`` (strong). PUT, PATCH and DELETE of one
honour If-Match: ``*`` matches any existing object; otherwise one of the listed tags must
equal the current one by strong comparison (a weak tag never does). A stale tag answers
412 ``precondition_failed`` with the current ETag, and nothing is written. A malformed
header is a 400 ``invalid_if_match``. With REQUIRE_IF_MATCH on, leaving it out is a 428
``precondition_required``.

The header is read after the object was found and the caller's right to the action checked,
so 404 and 403 come first and a precondition never tells a caller anything about an object
they may not write; a body that fails validation is a 400 before the tag is compared. The
comparison happens under the row's lock, in the same transaction as the write, and the
UPDATE itself is conditional on the version (server/versioning.py).
"""

import re
from dataclasses import dataclass

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ParseError

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'(W/)?"[\x21\x23-\x7e\x80-\xff]*"')
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")


def etag_of(obj) -> str:
    return f'"{obj.pk}-{obj.version}"'


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "This item changed since you read it (your If-Match does not match its ETag); nothing was "
        "written. Read it again, then repeat the change."
    )
    default_code = "precondition_failed"

    def __init__(self, current_etag: str):
        super().__init__()
        self.etag = current_etag


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "This server requires an If-Match header on changes: send the ETag you read with the item "
        '(or "*" to change it whatever its version).'
    )
    default_code = "precondition_required"


@dataclass(frozen=True)
class Precondition:
    """What the request's If-Match asks; ``sent`` is False when it had none."""

    sent: bool = False
    any: bool = False
    tags: frozenset[str] = frozenset()

    def check(self, obj) -> None:
        """412 unless ``obj`` (read under its lock) is the version the client expects."""
        if self.sent and not self.any and etag_of(obj) not in self.tags:
            raise PreconditionFailed(etag_of(obj))

    def fail_against(self, current) -> None:
        """The conditional UPDATE matched nothing: 404 if the row is gone, else 412 with
        its current ETag (unless ``*``, which any existing row matches)."""
        if current is None:
            raise NotFound()
        if not self.any:
            raise PreconditionFailed(etag_of(current))


NO_PRECONDITION = Precondition()


def parse_if_match(value: str) -> Precondition:
    value = value.strip(" \t")
    if value == "*":
        return Precondition(sent=True, any=True)
    items = [item for item in _SEPARATOR.split(value) if item]  # empty list elements are ignored
    tags = set()
    for item in items or [""]:
        if not _ENTITY_TAG.fullmatch(item):
            raise ParseError(
                'If-Match must be "*" or a list of entity tags such as "12-3", each in double quotes.',
                code="invalid_if_match",
            )
        if not item.startswith("W/"):  # a weak tag never matches by strong comparison
            tags.add(item)
    return Precondition(sent=True, tags=frozenset(tags))


def precondition_of(request) -> Precondition:
    """The If-Match of a PUT, PATCH or DELETE of one versioned object."""
    header = request.headers.get("If-Match")
    if header is None:
        if settings.REQUIRE_IF_MATCH:
            raise PreconditionRequired()
        return NO_PRECONDITION
    return parse_if_match(header)


class ETagMixin:
    """For viewsets of versioned objects: every answer that is one object (a retrieve, a
    create, an update) carries its ETag."""

    versioned = True

    def precondition_for(self, obj) -> Precondition:
        """The request's If-Match, read once ``obj`` was found and the caller's right checked
        (a malformed or, where required, missing one answers now). It is compared with the
        object by the service, under the row's lock, after the body passed validation: the
        normal request checks come first (RFC 9110 section 13.2.2), so a bad body is a 400
        whatever the tag, and a stale tag on a valid change a 412."""
        return precondition_of(self.request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if (
            200 <= response.status_code < 300
            and isinstance(data, dict)
            and "version" in data
            and "id" in data
        ):
            response["ETag"] = f'"{data["id"]}-{data["version"]}"'
        return response
