"""server/database.py: timestamps read from PostgreSQL by psycopg's C loader (the same
datetimes, with the same time zone, as Django's own loader and the ORM gave before), and
statements sent together (rows_of_each), and a kept connection checked before a request
uses it (server/postgresql)."""

import datetime
import select
import threading
import time

import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction

from budgets.tests.factories import BudgetFactory, CategoryFactory
from server.database import rows_of_each
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
INSTANTS = [
    datetime.datetime(2026, 11, 30, 12, 34, 56, 123456, tzinfo=UTC),
    datetime.datetime(2026, 11, 30, 12, 34, 56, tzinfo=UTC),
    datetime.datetime(2026, 3, 29, 1, 30, 0, 500000, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    datetime.datetime(1, 1, 1, tzinfo=UTC),
    datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_a_stored_timestamp_reads_back_as_the_same_instant_in_utc(instant):
    tx = TransactionFactory()
    Transaction.objects.filter(pk=tx.pk).update(created_at=instant)
    read = Transaction.objects.values_list("created_at", flat=True).get(pk=tx.pk)
    assert read == instant
    assert read.utcoffset() == datetime.timedelta(0)
    if connection.vendor == "postgresql":
        # Django's own loader, given the text PostgreSQL sends, reads the same value and zone.
        from django.db.backends.postgresql.psycopg_any import BaseTzLoader
        from psycopg.pq import Format

        class DjangosLoader(BaseTzLoader):
            timezone = connection.timezone

        with connection.cursor() as cursor:
            cursor.execute("SELECT created_at::text FROM transactions_transaction WHERE id = %s", [tx.pk])
            text = cursor.fetchone()[0]
            loader = cursor.cursor.adapters.get_loader(1184, Format.TEXT)
            assert loader.__name__ == "SessionTimestamptzLoader"
            djangos = DjangosLoader(1184, cursor.cursor).load(text.encode())
        assert (read, read.tzinfo) == (djangos, djangos.tzinfo)


def test_statements_sent_together_each_give_their_own_rows_in_order():
    """rows_of_each: one round trip on PostgreSQL (psycopg's pipeline), one statement after
    another elsewhere; the rows of each come back beside their own statement."""
    budgets = BudgetFactory.create_batch(3)
    ids = sorted(budget.pk for budget in budgets)
    with transaction.atomic():
        rows = rows_of_each(
            [
                ("SELECT id FROM budgets_budget WHERE id = %s", [ids[1]]),
                ("SELECT count(*) FROM budgets_budget WHERE id >= %s", [ids[0]]),
                ("SELECT id, name FROM budgets_budget WHERE id = %s", [-1]),
                ("SELECT id FROM budgets_budget WHERE id >= %s ORDER BY id", [ids[0]]),
            ]
        )
    assert rows == [[(ids[1],)], [(3,)], [], [(pk,) for pk in ids]]


def test_a_failing_statement_raises_as_alone_and_the_ones_after_it_do_not_run():
    """The first statement's error is Django's, as any statement's (the exception handler
    and atomic see what they always see); the second, a write, never runs; the connection
    serves the next request."""
    budget = BudgetFactory(name="Before")
    with pytest.raises(DatabaseError), transaction.atomic():  # Django's, not the driver's
        rows_of_each(
            [
                ("SELECT id FROM budgets_no_such_table WHERE id = %s", [budget.pk]),
                ("UPDATE budgets_budget SET name = 'After' WHERE id = %s RETURNING id", [budget.pk]),
            ]
        )
    assert rows_of_each([("SELECT name FROM budgets_budget WHERE id = %s", [budget.pk])]) == [[("Before",)]]


def test_a_statement_sent_after_a_lock_starts_once_the_lock_is_held(transactional_db):
    """The right a write reads under its budget's lock travels with the lock
    (budgets/services/locks.py) but must still read what committed while the lock waited:
    under READ COMMITTED each statement of the pipeline takes its own snapshot when it
    starts, after the one before it has finished. Another connection holds the budget; a
    category is committed while the lock waits; the count sent after the lock sees it (one
    statement, or one snapshot for both, would count 0). SQLite has no row locks: there the
    two run one after the other and the count is simply the committed one."""
    budget = BudgetFactory()
    statements = [
        ("SELECT id FROM budgets_budget WHERE id = %s FOR NO KEY UPDATE", [budget.pk]),
        ("SELECT count(*) FROM budgets_category WHERE budget_id = %s", [budget.pk]),
    ]
    if connection.vendor != "postgresql":
        CategoryFactory(budget=budget)
        with transaction.atomic():
            statements[0] = ("SELECT id FROM budgets_budget WHERE id = %s", [budget.pk])
            assert rows_of_each(statements) == [[(budget.pk,)], [(1,)]]
        return
    answers = {}

    def write():
        try:
            with transaction.atomic():
                answers["rows"] = rows_of_each(statements)
        except Exception as error:  # reported below, in the test's thread
            answers["error"] = error
        finally:
            connection.close()

    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        holder.autocommit = False
        # NO KEY: the category insert below (its key share of the budget) is not held up.
        holder.execute("SELECT id FROM budgets_budget WHERE id = %s FOR NO KEY UPDATE", [budget.pk])
        writer = threading.Thread(target=write)
        writer.start()
        for _ in range(2000):  # until the writer's lock waits on the holder's (at most 20 s)
            with connection.cursor() as cursor:  # not the holder's: its transaction keeps one view
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
                (waiting,) = cursor.fetchone()
            if waiting:
                break
            time.sleep(0.01)
        assert waiting == 1
        CategoryFactory(budget=budget)  # committed by this thread's own connection
        holder.commit()
        writer.join(timeout=30)
    finally:
        holder.close()
    assert "error" not in answers, answers
    assert answers["rows"] == [[(budget.pk,)], [(1,)]]


def _checked(kept, monkeypatch) -> list:
    """A request on ``kept``: what Django runs at its start (close_if_unusable_or_obsolete),
    then its first query, which the check precedes. Returns the checks' round trips
    (Django's is_usable, a SELECT 1 each)."""
    sent = []
    real = kept.is_usable
    monkeypatch.setattr(kept, "is_usable", lambda: sent.append("SELECT 1") or real())
    kept.close_if_unusable_or_obsolete()
    with kept.cursor() as cursor:
        cursor.execute("SELECT 3")
        assert cursor.fetchone() == (3,)
    return sent


def test_a_kept_connection_is_checked_before_a_request_uses_it(transactional_db, monkeypatch):
    """A quiet kept connection is used as it is, without a round trip on PostgreSQL (its
    socket says the server has sent nothing); one whose server ended the session is
    replaced before the request's first query, which then answers."""
    kept = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with kept.cursor() as cursor:
            cursor.execute("SELECT 1")
        first = kept.connection
        sent = _checked(kept, monkeypatch)
        assert kept.connection is first
        if connection.vendor != "postgresql":
            assert sent == ["SELECT 1"]  # Django's own check; SQLite's answers without a query
            return
        assert sent == []
        with kept.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            [pid] = cursor.fetchone()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        poller = select.poll()
        poller.register(first.fileno(), select.POLLIN)
        assert poller.poll(5000)  # the server's goodbye has arrived
        sent = _checked(kept, monkeypatch)
        assert sent == ["SELECT 1"]
        assert kept.connection is not first
        with kept.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone() != (pid,)
        # A connection left inside a transaction is not trusted to its socket.
        kept.connection.execute("BEGIN")
        assert _checked(kept, monkeypatch) == ["SELECT 1"]
    finally:
        kept.close()
