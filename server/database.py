"""The PostgreSQL connection as the API uses it: timestamps loaded by psycopg's own C loader,
and statements that depend on each other's order but not on each other's rows sent together.

Django (5.x, psycopg 3) replaces psycopg's timestamptz loader with a Python subclass that
parses each value in Python and then sets the connection's time zone on it: about 5.5 us a
value against 0.4 (1,000 values of a query: 5.5 ms against 0.9 on the bench machine), two
per transaction row, so 0.5 ms of a 50-row page and most of an export's decoding. psycopg's
C loader (psycopg[binary]) parses in the session's time zone, which Django sets to the
connection's at connect time (``ensure_timezone``), so it gives the same datetime, with the
same tzinfo (server/tests/test_database.py compares them).
"""

import functools

import psycopg
from django.db import connections
from psycopg.adapt import Loader
from psycopg.pq import Format

_TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid


def use_fast_timestamps(sender, connection, **kwargs) -> None:
    """connection_created receiver: psycopg's loader for this connection's timestamptz."""
    if connection.vendor == "postgresql":
        connection.connection.adapters.register_loader("timestamptz", _loader_for(connection.timezone))


@functools.cache
def _loader_for(timezone):
    # psycopg's default map holds the C loader where psycopg[binary] is installed.
    native = psycopg.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)

    class SessionTimestamptzLoader(Loader):
        # What Django's create_cursor compares before registering its own loader per cursor.
        timezone = None

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._load = native(oid, context).load

        def load(self, data):
            return self._load(data)

    SessionTimestamptzLoader.timezone = timezone
    return SessionTimestamptzLoader


def rows_of_each(statements, using: str = "default") -> list[list[tuple]]:
    """The rows of each ``(sql, params)``, run in the order given. On PostgreSQL they travel
    in one round trip (psycopg's pipeline mode, with the BEGIN of a transaction just opened):
    the server still runs each after the one before has finished, and under READ COMMITTED
    each takes its own snapshot when it starts, so a check sent after a lock reads what the
    lock waited for. Each goes through the connection's execute wrappers, as any statement.
    A failing statement raises, as it would alone, and the ones after it do not run."""
    connection = connections[using]
    if connection.vendor != "postgresql" or len(statements) < 2:
        results = []
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
        return results
    cursors = [connection.cursor() for _ in statements]  # the first opens the connection
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
            return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()
