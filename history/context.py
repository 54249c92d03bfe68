"""Who is changing what: the context every change-log event records (history/triggers.py).

The events are written by database triggers, so they need the actor, the source and the
request id from the database session, whatever wrote the row:

- a ``Context`` per request (HistoryMiddleware: source "api", or "admin" for the Django
  admin and the staff grants API (/api/v1/admin/);
  the request id from ``X-Request-ID`` or a new one), narrowed with ``acting(...)`` (the
  bulk and import views say "bulk" and "import"; the revocations a departure causes,
  "system"). Outside a request (a management command, the shell) it is "system" with no
  actor;
- on PostgreSQL, the context travels as three transaction-local settings
  (``history.actor``, ``history.source``, ``history.request``), sent once per transaction
  just before its first write (one statement, by a cursor execute wrapper installed on every
  connection), and again if the context changes within it or a savepoint is rolled back;
- on SQLite, the triggers call functions registered on every connection Django opens
  (``history_actor()``, ...), which read the context directly. SQLite has no other way into
  a trigger, so the tracked tables are written through Django only: the sqlite3 shell
  (``manage.py dbshell``) cannot write them ("no such function").

The same wrapper keeps, on SQLite, a per-transaction memo (``tx_memo`` /
``tx_memo_set``) that the delta-sync triggers use to raise a budget's knowledge once per
transaction (budgets/sync.py); PostgreSQL keeps it in a transaction-local setting.
"""

import contextvars
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.db.models import TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.functional import LazyObject, empty

from money.amounts import format_amount

SOURCES = ("api", "bulk", "import", "admin", "system")
REQUEST_ID_HEADER = "X-Request-ID"
# The Django admin and the staff grants API: a site admin's changes.
ADMIN_PATHS = ("/admin/", "/api/v1/admin/")
# A client's own request id is kept if it is this tame; otherwise the server makes one.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_UNSET = object()


@dataclass(frozen=True)
class Context:
    source: str = "system"
    request_id: str | None = None
    # The request whose signed-in user is the actor (read when a change is written: DRF
    # authenticates inside the view), unless ``actor`` names one (a user, or None).
    request: object = field(default=None, compare=False)
    actor: object = field(default=_UNSET, compare=False)

    @property
    def actor_id(self) -> int | None:
        if self.actor is not _UNSET:
            return getattr(self.actor, "pk", self.actor)
        user = getattr(self.request, "user", None)
        if isinstance(user, LazyObject) and user._wrapped is empty:
            return None  # never looked at: no one authenticated (and no query from here)
        if user is not None and getattr(user, "is_authenticated", False):
            return user.pk
        return None

    def settings(self) -> tuple[str, str, str]:
        """The three values as the database settings carry them ('' for none)."""
        actor = self.actor_id
        return ("" if actor is None else str(actor), self.source, self.request_id or "")


SYSTEM = Context()
_current: contextvars.ContextVar[Context] = contextvars.ContextVar("history_context", default=SYSTEM)


def current() -> Context:
    return _current.get()


@contextmanager
def acting(**overrides):
    """The changes made inside are recorded with ``overrides`` (source, actor, request_id)."""
    if "source" in overrides and overrides["source"] not in SOURCES:
        raise ValueError(f"Unknown change source {overrides['source']!r}")
    token = _current.set(replace(current(), **overrides))
    try:
        yield
    finally:
        _current.reset(token)


def new_request_id(sent: str | None) -> str:
    if sent is not None and _CLIENT_REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class HistoryMiddleware:
    """Every request's changes carry its request id, which every answer names in
    ``X-Request-ID`` (the client's own, if it sent a plain one)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        source = "admin" if request.path_info.startswith(ADMIN_PATHS) else "api"
        token = _current.set(Context(source=source, request_id=request_id, request=request))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


# The connection side ---------------------------------------------------------------------

_WRITE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_SEND = (
    "SELECT set_config('history.actor', %s, true), set_config('history.source', %s, true), "
    "set_config('history.request', %s, true)"
)
_SEND_AS_COLUMN = (
    "set_config('history.actor', %s, true) || set_config('history.source', %s, true) || "
    "set_config('history.request', %s, true)"
)
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT"


class _ConnectionState:
    """Per database connection: the context the current transaction's settings hold
    (PostgreSQL), or its memo (SQLite)."""

    def __init__(self):
        self.sent: tuple[str, str, str] | None = None
        self.memo: dict[str, int] = {}


def _send_postgresql(wrapper, cursor) -> None:
    """Sends the context for the transaction under way, unless it holds it already."""
    state = wrapper.history_state
    wanted = current().settings()
    if state.sent != wanted and not (state.sent is None and wanted == SYSTEM.settings()):
        cursor.execute(_SEND, wanted)
        state.sent = wanted


def settings_column(actor: str, source: str, request_id: str) -> RawSQL:
    """The three settings as one column of a statement that opens a transaction's writes
    (the budgets' lock, budgets/services/locks.py), which saves the round trip of sending
    them on their own; ``settings_sent`` once its rows came back."""
    return RawSQL(_SEND_AS_COLUMN, (actor, source, request_id), output_field=TextField())  # noqa: S611 - constant SQL


def settings_sent(connection, settings: tuple[str, str, str]) -> None:
    """The transaction holds ``settings`` (a statement returned settings_column's value in
    one of its rows): the first write sends nothing more, unless the context changes."""
    connection.history_state.sent = settings


def before_raw_write(connection) -> None:
    """For a write that passes no cursor wrapper (psycopg's COPY), inside a transaction:
    the change log's context goes first, as it would before any other write."""
    if connection.vendor != "postgresql":
        return
    connection.ensure_connection()
    if connection.connection.info.transaction_status == 0:
        connection.history_state.sent = None
    with connection.cursor() as cursor:
        _send_postgresql(connection, cursor.cursor)


def _postgresql_wrapper(execute, sql, params, many, context):
    wrapper = context["connection"]
    state = wrapper.history_state
    status = wrapper.connection.info.transaction_status  # psycopg.pq.TransactionStatus
    idle = status == 0  # IDLE: no transaction open
    if idle:
        state.sent = None  # whatever was sent ended with its transaction
    if status != 3 and _WRITE.match(sql):  # 3, INERROR: the statement fails anyway
        wanted = current().settings()
        if state.sent != wanted and not (state.sent is None and wanted == SYSTEM.settings()):
            # The driver's own cursor: one statement that no query log counts as the view's.
            if idle and wrapper.get_autocommit():
                # A write outside any transaction: it and its context go in one.
                with transaction.atomic(using=wrapper.alias):
                    _send_postgresql(wrapper, context["cursor"].cursor)
                    return execute(sql, params, many, context)
            _send_postgresql(wrapper, context["cursor"].cursor)
    result = execute(sql, params, many, context)
    if sql.startswith(_ROLLBACK_TO):
        state.sent = None  # the settings may have been sent inside the savepoint
    return result


def _sqlite_wrapper(execute, sql, params, many, context):
    wrapper = context["connection"]
    if not wrapper.connection.in_transaction:
        wrapper.history_state.memo.clear()
    result = execute(sql, params, many, context)
    if sql.startswith(_ROLLBACK_TO):
        wrapper.history_state.memo.clear()
    return result


def _sqlite_functions(raw, state: _ConnectionState) -> None:
    raw.create_function("history_now", 0, lambda: str(timezone.now().replace(tzinfo=None)))
    raw.create_function("history_actor", 0, lambda: current().actor_id)
    raw.create_function("history_source", 0, lambda: current().source)
    raw.create_function("history_request", 0, lambda: current().request_id)
    raw.create_function(
        "history_money",
        2,
        lambda minor, currency: None if minor is None or currency is None else format_amount(minor, currency),
        deterministic=True,
    )
    raw.create_function("tx_memo", 1, lambda key: state.memo.get(key))

    def remember(key, value):
        state.memo[key] = value
        return value

    raw.create_function("tx_memo_set", 2, remember)


def install_on_connection(sender, connection, **kwargs) -> None:
    """connection_created receiver: the wrapper (once per Django connection object, which
    outlives its database sessions) and, on SQLite, the functions (per session)."""
    if not hasattr(connection, "history_state"):
        connection.history_state = _ConnectionState()
        wrapper = {"postgresql": _postgresql_wrapper, "sqlite": _sqlite_wrapper}.get(connection.vendor)
        if wrapper is not None:
            connection.execute_wrappers.insert(0, wrapper)
    connection.history_state.sent = None
    connection.history_state.memo.clear()
    if connection.vendor == "sqlite":
        _sqlite_functions(connection.connection, connection.history_state)
