"""The PostgreSQL connection as the API reads it: timestamps loaded by psycopg's own C loader.

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
