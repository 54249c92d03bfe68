"""Django's PostgreSQL backend, but a kept connection is checked before a request's first
query by looking at its socket, not by sending ``SELECT 1``.

A server that ends a session (a restart, ``pg_terminate_backend``, ``idle_session_timeout``)
sends the client an error and closes the socket; either makes an idle connection's socket
readable. A quiet socket on an idle connection therefore means the server has said nothing
since its last answer: the connection is used as it is (2 us against 130 to 150 for the
round trip). Anything else (the socket readable, a transaction left open, a connection
psycopg knows is broken, no poll() on this platform) gets Django's own check. A connection
lost without a word (a cable pulled) is found by neither before the query times out."""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and _quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _quiet(connection) -> bool:
    if not hasattr(select, "poll") or connection.closed or connection.broken:
        return False
    if connection.info.transaction_status != pq.TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN)
    return not poller.poll(0)
