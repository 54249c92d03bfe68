"""Reading the change log: the event's JSON, the history query (filters, cursor, limit) and
its page. The routes live with what they show (budgets/, categories/, transactions/ and
households/{id}/activity/); each hands this module a queryset of the events the caller may
see, and this module narrows, pages and writes them."""

import base64
import binascii
from datetime import UTC, datetime, time

from django.db import connections
from django.db.models.expressions import RawSQL
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from history.models import Event, ObjectType, Source
from server.compiled import array_text
from server.fields import ChoiceField, WholeNumberField, iso_datetime
from server.pagination import LimitOffsetPagination

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# What a history route's query may be refused with, per parameter (documented by each view).
QUERY_ERRORS = {
    "actor": ["invalid", "min_value", "max_value"],
    "object_type": ["invalid_choice"],
    "since": ["invalid", "overflow"],
    "until": ["invalid", "overflow"],
    "cursor": ["invalid", "null_characters_not_allowed"],
    "limit": ["invalid", "min_value"],
}
_PK_MAX = 2**63 - 1


class ActorSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    email = serializers.EmailField(allow_null=True)
    deleted = serializers.BooleanField(help_text="The account was deleted since: id and email are null.")


def actor_of(event: Event) -> dict | None:
    """null for the system and for site admins (as a share says "granted_by": "admin"); a
    deleted account keeps its place with ``deleted: true``."""
    if event.source == Source.ADMIN or not event.had_actor:
        return None
    if event.actor_id is None or event.actor is None:
        return {"id": None, "email": None, "deleted": True}
    return {"id": event.actor_id, "email": event.actor.email, "deleted": False}


class EventSerializer(serializers.Serializer):
    """One changed row. ``changes``: each field that changed as [old, new] (a create's old
    values and a delete's new values are null); money as exact decimal strings in the row's
    currency, dates as YYYY-MM-DD, other rows by id."""

    id = serializers.IntegerField(help_text="Grows with every event: newest first is highest first.")
    at = serializers.DateTimeField(help_text="When the change was written (its transaction's start).")
    object_type = ChoiceField(choices=ObjectType.values)
    object_id = serializers.IntegerField(
        help_text="The row's id (a split's is its transaction's; a share's is its permission row's)."
    )
    action = ChoiceField(choices=["create", "update", "delete"])
    budget = serializers.IntegerField(allow_null=True, help_text="The budget the row belonged to.")
    household = serializers.IntegerField(allow_null=True, help_text="The household the row belonged to.")
    transaction = serializers.IntegerField(
        allow_null=True, help_text="For a transaction, its split and its members' parts: the transaction."
    )
    changes = serializers.SerializerMethodField()
    actor = ActorSerializer(
        allow_null=True,
        help_text="Who was signed in to the request that made it; null outside a request and for a "
        "site admin (see source).",
    )
    source = ChoiceField(choices=Source.values, help_text="api, bulk, import, admin or system")
    request_id = serializers.CharField(
        allow_null=True, help_text="The X-Request-ID of the request that made it; null outside one."
    )

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2, "items": {}},
            "example": {"amount": ["12.30", "9.99"], "payee": ["Market", "Corner shop"]},
        }
    )
    def get_changes(self, event) -> dict:
        return event.changes

    def to_representation(self, event):
        return {
            "id": event.pk,
            "at": iso_datetime(event.created_at),
            "object_type": event.object_type,
            "object_id": event.object_id,
            "action": event.action,
            "budget": event.budget_id,
            "household": event.household_id,
            "transaction": event.transaction_id,
            "changes": event.changes,
            "actor": actor_of(event),
            "source": event.source,
            "request_id": event.request_id,
        }


class EventPageSerializer(serializers.Serializer):
    next = serializers.URLField(
        allow_null=True, help_text="The next (older) page: the same query with its cursor; null at the end."
    )
    results = EventSerializer(many=True)


class HistoryQuerySerializer(serializers.Serializer):
    actor = WholeNumberField(
        required=False, min_value=1, max_value=_PK_MAX, help_text="Only changes this user made"
    )
    object_type = ChoiceField(
        choices=ObjectType.values, required=False, help_text="Only changes of this kind of row"
    )
    since = serializers.DateTimeField(
        required=False, help_text="At or after this time (ISO 8601; a date is its midnight UTC)"
    )
    until = serializers.DateTimeField(required=False, help_text="Before this time (ISO 8601)")
    # Untrimmed: a cursor of only whitespace is a bad cursor ("invalid"), not a "blank" one.
    cursor = serializers.CharField(
        required=False, trim_whitespace=False, help_text="From a page's `next` link"
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=f"Events per page: default {DEFAULT_LIMIT}; a limit above {MAX_LIMIT} is served as "
        f"{MAX_LIMIT}.",
    )

    def to_internal_value(self, data):
        # An empty parameter is one left out, as django-filter reads the lists' filters; the
        # limit is read as the lists read theirs (digits only, clamped).
        data = {key: value for key, value in data.items() if value != ""}
        limit = data.pop("limit", None)
        values = super().to_internal_value({**data, **_date_as_midnight(data)})
        if limit is not None:
            values["limit"] = LimitOffsetPagination._read(_Params(limit=limit), "limit", minimum=1)
        if "cursor" in values:
            values["cursor"] = _decode_cursor(values["cursor"])
        return values


class _Params(dict):
    """What LimitOffsetPagination._read reads: ``request.query_params.get``."""

    @property
    def query_params(self):
        return self


def _date_as_midnight(data: dict) -> dict:
    out = {}
    for name in ("since", "until"):
        value = data.get(name)
        if isinstance(value, str) and len(value) == 10:
            try:
                day = datetime.strptime(value, "%Y-%m-%d").date()
            except ValueError:
                continue
            out[name] = datetime.combine(day, time.min, tzinfo=UTC).isoformat()
    return out


def _encode_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"e{event_id}".encode()).decode().rstrip("=")


def _decode_cursor(value: str) -> int:
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    digits = text[1:]
    if not (text.startswith("e") and digits.isascii() and digits.isdigit() and len(digits) <= 19):
        raise _bad_cursor()
    if not 0 < int(digits) <= _PK_MAX:
        raise _bad_cursor()
    return int(digits)


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": ["Invalid cursor: use a page's next link as it is."]}, code="invalid")


def _narrowed(events, params: dict):
    if "actor" in params:
        events = events.filter(actor_id=params["actor"])
    if "object_type" in params:
        events = events.filter(object_type=params["object_type"])
    if "since" in params:
        events = events.filter(created_at__gte=params["since"])
    if "until" in params:
        events = events.filter(created_at__lt=params["until"])
    if "cursor" in params:
        events = events.filter(pk__lt=params["cursor"])
    return events


def _newest_ids(events, limit: int):
    return events.order_by("-pk").values("pk")[:limit]


_PER_BUDGET = (
    "SELECT page.id FROM unnest(%s::bigint[]) AS page_budget (id) CROSS JOIN LATERAL ({}) AS page (id)"
)


def _per_budget_ids(events, budget_ids: list[int], limit: int) -> RawSQL:
    """PostgreSQL: the newest ``limit`` of ``events`` in each of the budgets, one index scan
    each (a LATERAL over the ids), as transactions/pagination.py reads a page's rows."""
    inner = _newest_ids(events.filter(budget_id=RawSQL("page_budget.id", ())), limit)
    sql, params = inner.query.sql_with_params()
    # The ORM's compiled SQL put in; values are parameters.
    return RawSQL(_PER_BUDGET.format(sql), (array_text(budget_ids), *params))  # noqa: S611


def _hide_unseen_origins(rows, viewable) -> None:
    """A row moved in from a budget the caller cannot view: its move's old values are that
    budget's (a note written there, the budget's id), so the page shows none of them."""
    moves = [row for row in rows if isinstance(row.changes, dict) and "budget" in row.changes]
    origins = {row.changes["budget"][0] for row in moves} - {None}
    if not origins:
        return
    seen = viewable(origins)
    for row in moves:
        if row.changes["budget"][0] not in seen:
            row.changes = {name: [None, new] for name, (_old, new) in row.changes.items()}


def history_page(request, events, *, viewable, budgets: tuple | None = None) -> Response:
    """One page of ``events`` (the events the caller may see), narrowed by the query, newest
    first, read in two steps in one statement: the page's ids along the narrowing's own index
    (``budget_id``, ``transaction_id``, ...; its INCLUDE columns answer the filters), then
    those rows. Asked for its rows ordered by id outright, PostgreSQL may walk the primary key
    backwards and filter, quick for a budget whose events are recent and a read of every
    newer event for one whose are not (0.4 s for a seeded 50,000-row budget).

    ``viewable``: which of some budget ids the caller can view now (budgets/history.py,
    ``viewable_among``). ``budgets``: (events, budget ids), more events the page is made of,
    read budget by budget (the household's activity: the budgets shared with it)."""
    query = HistoryQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    limit = min(params.get("limit", DEFAULT_LIMIT), MAX_LIMIT)
    ids = _newest_ids(_narrowed(events, params), limit + 1)
    if budgets is not None:
        more, budget_ids = budgets
        more = _narrowed(more, params)
        if connections[events.db].vendor == "postgresql":
            first_sql, first_params = ids.query.sql_with_params()
            each = _per_budget_ids(more, budget_ids, limit + 1)
            ids = RawSQL(  # noqa: S611 - the ORM's compiled SQL; values are parameters
                f"SELECT id FROM (({first_sql}) UNION ({each.sql})) AS page (id) "  # noqa: S608
                "ORDER BY id DESC LIMIT %s",
                (*first_params, *each.params, limit + 1),
            )
        else:
            ids = _newest_ids(_narrowed(events, params) | more.filter(budget_id__in=budget_ids), limit + 1)
    rows = list(Event.objects.filter(pk__in=ids).select_related("actor").order_by("-pk"))
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        url = replace_query_param(request.build_absolute_uri(), "cursor", _encode_cursor(rows[-1].pk))
        following = replace_query_param(url, "limit", limit)
    _hide_unseen_origins(rows, viewable)
    return Response({"next": following, "results": EventSerializer(rows, many=True).data})


HISTORY_DOCS = (
    "Newest first, in pages: follow `next` (a cursor) for older ones. Each event is one changed "
    "row: what it was (`object_type`, `object_id`), what it belonged to, what changed "
    "(`changes`, each field as [old, new]), who (`actor`), how (`source`: api, bulk, import, "
    "admin, system) and in which request (`request_id`). Filter by `actor`, `object_type`, "
    "`since` and `until`."
)


def document_history_errors(*, actions: list[str]):
    """The 400s a history route's query may answer, for its schema."""
    from drf_standardized_errors.openapi_validation_errors import extend_validation_errors

    def decorate(view):
        for name, codes in QUERY_ERRORS.items():
            view = extend_validation_errors(codes, field_name=name, actions=actions)(view)
        return view

    return decorate
