"""Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header, Stripe's semantics).

A client that sends ``Idempotency-Key: <key>`` with a POST may send the same request again
(after a timeout, a dropped connection) and get the first answer back instead of a second
write:

- the key: 1-255 printable ASCII characters, bare or as a structured-field string
  (``"abc"`` and ``abc`` are the same key); anything else is a 400 ``invalid_idempotency_key``;
- it belongs to the caller (the signed-in user; for a route without sign-in, the client's
  address) and to the method and path: another user's same key is another request;
- the first request runs inside one database transaction with the record of its answer
  (status, body, Location/ETag/Content-Type/Server-Knowledge): both are kept, or neither is;
- a retry with the same body (compared canonically: JSON by value, a form by its fields
  and the files' contents) gets that answer byte for byte, with ``Idempotent-Replayed:
  true``, and nothing is written again; with another body, 422 ``idempotency_key_reused``;
- while the first is still running, a retry is a 409 ``idempotency_key_in_use`` (an
  advisory lock on PostgreSQL; SQLite lets one writer in at a time, so a retry waits for
  the first and gets its answer);
- answers that are not 2xx are not kept: the client may fix the request and send it again
  with the same key;
- records expire after IDEMPOTENCY_TTL_HOURS (24); storing an answer also removes every
  expired record, at most once a minute per process (one DELETE, after the commit), and
  ``manage.py sweep_idempotency_keys`` removes every expired one;
- REQUIRE_IDEMPOTENCY_KEY makes the header mandatory on those POSTs (400
  ``idempotency_key_required``).

The login, refresh and logout routes are left out: their answers are credentials, which
are not to be stored.
"""

import hashlib
import json
import re
import time
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from idempotency.models import IdempotencyRecord
from server.errors import error_body
from server.middleware import is_api_path
from server.throttling import client_ip

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Answers that carry credentials: never stored, so the header is ignored there.
EXEMPT_PATHS = ("/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/auth/logout/")
# Server-Knowledge: a write's new delta-sync knowledge (budgets/sync.py), as the first answer said it.
KEPT_HEADERS = ("Content-Type", "Location", "ETag", "Server-Knowledge")

_BARE = re.compile(r"[\x21-\x7e]{1,255}")
_QUOTED = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,255})"')


def parse_key(value: str) -> str | None:
    """The key's value, or None if the header is not a valid key."""
    value = value.strip(" \t")
    quoted = _QUOTED.fullmatch(value)
    if quoted:
        key = re.sub(r"\\([\"\\])", r"\1", quoted[1])
        return key if len(key) <= 255 else None
    return value if _BARE.fullmatch(value) and not value.startswith('"') else None


def _refusal(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(type_="client_error", code=code, detail=detail), status=status)


def _principal(request, view_func) -> str | None:
    """Who the key belongs to, authenticated as the view will. None: a caller the view will
    refuse with a 401 (bad credentials, or none where the route needs them), for whom there
    is nothing to remember. The API's JWT authentication (accounts/authentication.py) keeps
    its success on the request, so the view does not decode the token or read the user again."""
    # An @action's own classes (its initkwargs) over the viewset's.
    initkwargs = getattr(view_func, "initkwargs", {})
    authenticators = initkwargs.get("authentication_classes", view_func.cls.authentication_classes)
    permissions = initkwargs.get("permission_classes", view_func.cls.permission_classes)
    drf_request = Request(request, authenticators=[auth() for auth in authenticators])
    try:
        user = drf_request.user
    except APIException:
        return None
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    # Anonymous: only routes open to anyone (registration, the token-link invitation and
    # email routes) remember by address; their permission classes need no view.
    if not all(permission().has_permission(drf_request, None) for permission in permissions):
        return None
    return f"ip:{client_ip(request)}"


def _canonical_json(body: bytes) -> bytes:
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


def _form_digest(request) -> bytes:
    """A form (the CSV import's multipart upload) by its fields and its files' contents,
    so a retry re-encoded with another multipart boundary is the same request."""
    digest = hashlib.sha256()
    for name in sorted(request.POST):
        for value in request.POST.getlist(name):
            digest.update(json.dumps(["field", name, value]).encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            content = hashlib.sha256()
            upload.seek(0)
            for chunk in upload.chunks():
                content.update(chunk)
            upload.seek(0)
            digest.update(json.dumps(["file", name, content.hexdigest()]).encode())
    return digest.digest()


def _is_form(request) -> bool:
    return request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded")


def _fingerprint(request, body_digest: bytes) -> str:
    content_type = (request.content_type or "").encode()
    return hashlib.sha256(request.method.encode() + b"\0" + content_type + b"\0" + body_digest).hexdigest()


def _retry_fingerprint(request, form: bool, digest: bytes | None) -> str | None:
    """The fingerprint of a retry, compared with the stored one; a form that cannot be read
    is not the request that was answered (None never matches)."""
    if not form:
        return _fingerprint(request, digest)
    try:
        return _fingerprint(request, _form_digest(request))
    except Exception:
        return None


def _lookup(principal: str, request, key: str) -> str:
    parts = [principal, request.method, request.path, key]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


# The lookup and the store, run by every keyed POST, are written out: building them through
# the ORM took longer than running them (issue 15 allows a key 2 ms in all). Plain SQL that
# PostgreSQL and SQLite (3.24+) both run; the values go through the model fields' own
# preparation for the database, as the ORM's would.
_FIND = (
    "SELECT fingerprint, status, headers, body FROM idempotency_idempotencyrecord"
    " WHERE lookup = %s AND expires_at > %s"
)
# Under the claim, the only row the lookup can meet is an expired one: it is overwritten.
_STORE = (
    "INSERT INTO idempotency_idempotencyrecord"
    " (lookup, principal, fingerprint, status, headers, body, created_at, expires_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (lookup) DO UPDATE SET principal = excluded.principal,"
    " fingerprint = excluded.fingerprint, status = excluded.status, headers = excluded.headers,"
    " body = excluded.body, created_at = excluded.created_at, expires_at = excluded.expires_at"
)


def _db_value(field: str, value):
    return IdempotencyRecord._meta.get_field(field).get_db_prep_save(value, connection)


class _Answer(NamedTuple):
    fingerprint: str
    status: int
    headers: dict[str, str]
    body: bytes


def _claim(lookup: str) -> tuple[bool, _Answer | None]:
    """Whether this request may run the key now, and the answer kept for it (unless its
    time is up).

    The claim: on PostgreSQL, a transaction-scoped advisory lock named by the lookup (its
    one-key space; the import slots use the two-key one); on SQLite the transaction already
    holds the database's only write lock. On PostgreSQL the lock and the read travel in one
    round trip, as two statements of one simple query: each takes its own snapshot, so the
    read sees every answer committed before the lock was granted (one statement doing both
    would read from a snapshot older than the lock, and could miss the answer of a request
    that finished in between). Two statements in one query travel only without bound
    parameters (the simple query protocol; the settings bind values on the server), so the
    driver quotes the values into the text itself (compose_sql: psycopg's own quoting).
    """
    params = [lookup, _db_value("expires_at", timezone.now())]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            lock_id = int.from_bytes(bytes.fromhex(lookup[:16]), "big", signed=True)
            claim = connection.ops.compose_sql(
                "SELECT pg_try_advisory_xact_lock(%s); " + _FIND, [lock_id, *params]
            )
            cursor.execute(claim)
            if not cursor.fetchone()[0]:
                return False, None
            cursor.nextset()
        else:
            cursor.execute(_FIND, params)
        row = cursor.fetchone()
    if row is None:
        return True, None
    fingerprint, status, headers, body = row
    return True, _Answer(fingerprint, status, json.loads(headers), bytes(body))


def _replay(answer: _Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status)
    for header, value in answer.headers.items():
        response[header] = value
    response[REPLAYED] = "true"
    return response


def _store(response, *, lookup: str, principal: str, fingerprint: str) -> None:
    now = timezone.now()
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    with connection.cursor() as cursor:
        cursor.execute(
            _STORE,
            [
                lookup,
                principal,
                fingerprint,
                response.status_code,
                _db_value("headers", headers),
                _db_value("body", response.content),
                _db_value("created_at", now),
                _db_value("expires_at", now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)),
            ],
        )


# The opportunistic sweep: every expired record, in one DELETE by the expires_at index, once
# per SWEEP_SECONDS per process at most (sweep_idempotency_keys does the same on demand).
SWEEP_SECONDS = 60
_next_sweep = 0.0


def _sweep_due() -> bool:
    global _next_sweep
    now = time.monotonic()
    if now < _next_sweep:
        return False
    _next_sweep = now + SWEEP_SECONDS
    return True


def _sweep() -> None:
    IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()


class IdempotencyMiddleware:
    """Last in MIDDLEWARE: it runs the view itself, inside the transaction that records
    its answer (process_view returning a response is Django's way to do that)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or not is_api_path(request.path_info) or request.path in EXEMPT_PATHS:
            return None
        if not hasattr(view_func, "cls"):
            return None  # not an API view (the catch-all 404)
        raw = request.headers.get(HEADER)
        if raw is None and not settings.REQUIRE_IDEMPOTENCY_KEY:
            return None
        # Authentication first: a caller the view will refuse gets its 401, not a 400 about
        # the key, and nothing is kept for them.
        principal = _principal(request, view_func)
        if principal is None:
            return None
        if raw is None:
            return _refusal(
                400,
                "idempotency_key_required",
                f"This server requires an {HEADER} header on POST: a unique value per change, "
                "sent again unchanged when you retry it.",
            )
        key = parse_key(raw)
        if key is None:
            return _refusal(
                400,
                "invalid_idempotency_key",
                f"{HEADER} must be 1 to 255 printable ASCII characters, bare or in double quotes.",
            )
        lookup = _lookup(principal, request, key)
        form = _is_form(request)
        digest = None
        if not form:
            try:
                digest = _canonical_json(request.body)
            except RequestDataTooBig:
                return None  # the view answers 413; nothing is kept
        with transaction.atomic():
            claimed, answer = _claim(lookup)
            if not claimed:
                return _refusal(
                    409,
                    "idempotency_key_in_use",
                    "A request with this Idempotency-Key is still being processed; wait for it, "
                    "then send the retry again.",
                )
            if answer is not None:
                if answer.fingerprint != _retry_fingerprint(request, form, digest):
                    return _refusal(
                        422,
                        "idempotency_key_reused",
                        "This Idempotency-Key was used with a different request; use a new key for "
                        "a new change.",
                    )
                return _replay(answer)
            response = view_func(request, *view_args, **view_kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            if 200 <= response.status_code < 300 and not response.streaming:
                # A form is read after the view has parsed it (DRF hands the parsed fields
                # and files back to the request), so the view sees the upload untouched.
                fingerprint = _fingerprint(request, _form_digest(request) if form else digest)
                _store(response, lookup=lookup, principal=principal, fingerprint=fingerprint)
                if _sweep_due():
                    # After the commit, in its own statement: it holds none of this request's
                    # locks, and a failure cannot undo the answer (robust: logged, not raised).
                    transaction.on_commit(_sweep, robust=True)
            return response
