"""How many CSV imports run at once in the whole deployment (IMPORT_MAX_CONCURRENT).

An import holds a worker for a few seconds (50,000 rows: 3 to 5 s on PostgreSQL on a busy
2-core machine, docs/performance.md); without a limit, a handful of them at once would hold
every sync worker and starve the API. One over the limit answers 429 with Retry-After at once,
before the file is read.

PostgreSQL: session advisory locks, one per slot, so the limit holds across workers and
machines, and a slot is freed when its request ends or its connection drops. SQLite (one
machine, usually one process): a counter per process; its writes already queue for the
database's single write lock.
"""

import threading
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from rest_framework.exceptions import Throttled

# The advisory lock namespace of import slots ("im"); the slot number is the second key.
LOCK_CLASS = 0x696D
RETRY_AFTER_SECONDS = 5

_local_running = 0
_local_lock = threading.Lock()


def _busy() -> Throttled:
    return Throttled(
        wait=RETRY_AFTER_SECONDS,
        detail="Other imports are running; nothing was read from this file. Try again in a few seconds.",
    )


@contextmanager
def import_slot():
    if connection.vendor == "postgresql":
        slot = _take_advisory_slot(settings.IMPORT_MAX_CONCURRENT)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, slot])
        return
    global _local_running
    with _local_lock:
        if _local_running >= settings.IMPORT_MAX_CONCURRENT:
            raise _busy()
        _local_running += 1
    try:
        yield
    finally:
        with _local_lock:
            _local_running -= 1


def _take_advisory_slot(limit: int) -> int:
    with connection.cursor() as cursor:
        for slot in range(limit):
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, slot])
            if cursor.fetchone()[0]:
                return slot
    raise _busy()
