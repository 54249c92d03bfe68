"""Conditional writes (RFC 9110 section 13.1.1, If-Match; RFC 6585 section 3, 428).

A versioned object's ETag is ``"<id>-<version>"`` (strong). PUT, PATCH and DELETE of one
honour If-Match: ``*`` matches any existing object; otherwise one of the listed tags must
equal the current one by strong comparison (a weak tag never does). A stale tag answers
412 ``precondition_failed`` with the current ETag, and nothing is written. A malformed
header is a 400 ``invalid_if_match``. With REQUIRE_IF_MATCH on, leaving it out is a 428
``precondition_required``.

GET and HEAD of the API honour If-None-Match (RFC 9110 section 13.1.2, weak comparison):
304 Not Modified when the caller's tag is the current one (ConditionalGetMiddleware).

The header is read after the object was found and the caller's right to the action checked,
so 404 and 403 come first and a precondition never tells a caller anything about an object
they may not write; a body that fails validation is a 400 before the tag is compared. The
comparison happens under the row's lock, in the same transaction as the write, and the
UPDATE itself is conditional on the version (server/versioning.py).
"""

import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponseNotModified
from django.utils.cache import patch_vary_headers
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

    def __init__(self, current_etag: str | None, detail: str | None = None):
        super().__init__(detail)
        self.etag = current_etag  # None: there is no current version to name


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
    # If-None-Match: * on a PUT that may create (a share): only if there is none yet.
    create_only: bool = False

    def check(self, obj) -> None:
        """412 unless ``obj`` (read under its lock) is the version the client expects."""
        self.check_tag(etag_of(obj))

    def check_tag(self, current: str | None) -> None:
        """The same for a resource whose ETag is ``current``, or None when it has no current
        version (a PUT that would create it): then If-Match, even "*", fails (RFC 9110
        section 13.1.1), and If-None-Match: * passes."""
        if self.create_only and current is not None:
            raise PreconditionFailed(
                current, "It exists already (If-None-Match: *): nothing was written. Read it, then change it."
            )
        if not self.sent:
            return
        if current is None:
            raise PreconditionFailed(None, "It does not exist (any more): nothing was written.")
        if not self.any and current not in self.tags:
            raise PreconditionFailed(current)

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


def precondition_of(request, *, may_create: bool = False) -> Precondition:
    """The If-Match of a PUT, PATCH or DELETE of one versioned object. ``may_create``: a PUT
    that creates the resource when it does not exist also takes If-None-Match: * ("only if
    it does not exist"), which meets REQUIRE_IF_MATCH too; another If-None-Match there is
    ignored."""
    if may_create and request.headers.get("If-None-Match", "").strip(" \t") == "*":
        if request.headers.get("If-Match") is not None:
            raise ParseError(
                "Send If-Match (to change it) or If-None-Match: * (to create it), not both.",
                code="invalid_if_match",
            )
        return Precondition(create_only=True)
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


# Conditional GET ---------------------------------------------------------------------------

# Per-user money data: no cache may store it (private, no-store), and what a client keeps
# in its own store is revalidated with If-None-Match. The ETag of one user's answer never
# stands for another's: Vary says the answer depends on the credentials.
CACHE_CONTROL = "private, no-store"
# Representation headers, which a 304 does not carry (RFC 9110 section 15.4.5).
_BODY_HEADERS = ("Content-Type", "Content-Length", "Content-Language", "Content-Disposition")


def body_etag(content: bytes) -> str:
    """A strong ETag over the exact bytes of an answer that is not one versioned object (a
    list page: its ids, versions and count, and all the rest it shows)."""
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def if_none_match_hits(value: str, etag: str) -> bool:
    """Whether If-None-Match names ``etag`` (weak comparison: W/ is ignored) or is "*". A
    header that is not a list of entity tags is ignored, as if not sent: answering the
    full 200 is always correct."""
    value = value.strip(" \t")
    if value == "*":
        return True
    items = [item for item in _SEPARATOR.split(value) if item]
    if not items or not all(_ENTITY_TAG.fullmatch(item) for item in items):
        return False
    opaque = etag.removeprefix("W/")
    return any(item.removeprefix("W/") == opaque for item in items)


def not_modified(response):
    """The 304 for ``response``: its headers (ETag, Cache-Control, Vary, the security ones)
    without the body's."""
    answer = HttpResponseNotModified()
    for header, value in response.items():
        if header not in _BODY_HEADERS:
            answer[header] = value
    return answer


class ConditionalGetMiddleware:
    """Every 200 answer to a GET or HEAD under /api/ carries an ETag (a versioned object's
    own "<id>-<version>", set by ETagMixin; otherwise one over the body) and is a 304 when
    If-None-Match names it. It acts on the view's answer, so 401, 403 and 404 come first
    and a 304 tells nothing a 200 would not. A streamed export has no ETag."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD") or not request.path_info.startswith("/api/"):
            return response
        patch_vary_headers(response, ["Authorization"])
        if not response.has_header("Cache-Control"):  # a view may say otherwise
            response["Cache-Control"] = CACHE_CONTROL
        if response.status_code != 200 or response.streaming:
            return response
        if not response.has_header("ETag"):
            response["ETag"] = body_etag(response.content)
        sent = request.headers.get("If-None-Match")
        if sent is not None and if_none_match_hits(sent, response["ETag"]):
            return not_modified(response)
        return response
