"""The triggers behind the change log and delta sync: installed on every tracked table, their
migration steps reversible, money written exactly as the API writes it."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from budgets import sync
from budgets import tracking as budget_tracking
from budgets.models import BudgetKnowledge
from budgets.tests.factories import BudgetFactory
from history import triggers
from history.context import new_request_id
from history.models import Event
from history.tests.helpers import events_after, mark
from households import tracking as household_tracking
from money.amounts import format_amount
from money.currencies import MINOR_UNITS
from server.tests.helpers import MigrationEditor
from transactions import tracking as transaction_tracking
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

TRACKED = (*budget_tracking.TRACKED, *household_tracking.TRACKED, *transaction_tracking.TRACKED)


@pytest.mark.parametrize("tracked", TRACKED, ids=lambda t: t.table)
def test_every_tracked_table_has_its_change_log_triggers(tracked):
    assert triggers.installed(connection, tracked)


@pytest.mark.parametrize("tracked", TRACKED, ids=lambda t: t.table)
def test_each_tables_installed_triggers_are_what_the_code_writes(tracked):
    """What the migrations left is what history/triggers.py writes now: a change there
    needs a migration that installs it (postgresql_functions_replaced: budgets 0005,
    households 0005, transactions 0012; statements_replaced: budgets 0006, households 0006,
    transactions 0013).
    PostgreSQL: the function's body; SQLite: the triggers' statements as SQLite keeps them,
    and that they are still the table's newest."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            written = triggers.install_sql("postgresql", tracked)[0]
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [tracked.function])
            assert cursor.fetchall() == [(written.split("$$")[1],)]
        else:
            written = [sql for sql in triggers.install_sql("sqlite", tracked) if sql.startswith("CREATE")]
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s, %s) ORDER BY name",
                list(tracked.triggers()),
            )
            kept = [row[0] for row in cursor.fetchall()]
            assert sorted(kept) == sorted(written)
            # Still the table's newest, which SQLite fires first (statements_replaced).
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s ORDER BY rowid",
                [tracked.table],
            )
            names = [row[0] for row in cursor.fetchall()]
            assert names[-3:] == list(tracked.triggers())


def test_one_statements_events_follow_its_rows_ids():
    """A statement's events get their ids in the order of its rows' ids, whatever order the
    database reads its rows in: here a plan that hashes the new rows and reads them back
    per budget, as the CI run that read an import's four rows backwards did."""
    budgets = BudgetFactory.create_batch(3)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
    start = mark()
    created = Transaction.objects.bulk_create(
        [
            Transaction(
                budget=budgets[n % 3], kind="expense", amount_minor=n + 1, date=datetime.date(2026, 2, 1)
            )
            for n in range(30)
        ]
    )
    events = events_after(start)
    assert [e.object_id for e in events] == sorted(tx.pk for tx in created)
    Transaction.objects.filter(pk__in=[tx.pk for tx in created]).update(notes="seen")
    updated = events_after(start)[len(events) :]
    assert [(e.object_id, e.action) for e in updated] == [
        (tx.pk, "update") for tx in sorted(created, key=lambda t: t.pk)
    ]
    Transaction.objects.filter(pk__in=[tx.pk for tx in created]).delete()
    deleted = events_after(start)[2 * len(events) :]
    assert [(e.object_id, e.action) for e in deleted] == [
        (tx.pk, "delete") for tx in sorted(created, key=lambda t: t.pk)
    ]


def test_each_rows_changes_are_built_once():
    """A statement's events build each row's changes once, not once for the WHERE that
    drops an empty one and again for the value written: a field whose SQL counts its calls,
    on a table of the test's own, three rows in one INSERT. Once is 5 calls (a value is read
    to test it, then to write it; the null row's only to test it); twice was 9."""
    calls = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TEMPORARY SEQUENCE history_test_calls")
            # STABLE, as the planner sees a field's expression (a volatile one is never merged).
            cursor.execute(
                "CREATE FUNCTION pg_temp.counted(note text) RETURNS text LANGUAGE plpgsql STABLE AS "
                "$$ BEGIN PERFORM nextval('history_test_calls'); RETURN note; END $$"
            )
            counted = "pg_temp.counted({r}.note)"
        else:
            connection.connection.create_function("counted", 1, lambda note: calls.append(note) or note)
            counted = "counted({r}.note)"
        cursor.execute("CREATE TABLE history_test_note (id integer PRIMARY KEY, note text)")
        note = triggers.Tracked(
            table="history_test_note", object_type="budget", fields=(triggers.Field("note", sql=counted),)
        )
        for sql in triggers.install_sql(connection.vendor, note):
            cursor.execute(sql)
        start = mark()
        cursor.execute("INSERT INTO history_test_note (id, note) VALUES (1, 'rent'), (2, 'rail'), (3, NULL)")
        if connection.vendor == "postgresql":
            cursor.execute("SELECT last_value FROM history_test_calls")
            calls = list(range(cursor.fetchone()[0]))
    assert [(e.object_id, e.changes) for e in events_after(start)] == [
        (1, {"note": [None, "rent"]}),
        (2, {"note": [None, "rail"]}),
    ]
    assert len(calls) == 5


def test_the_tracked_tables_are_every_table_the_issue_names():
    assert {t.table for t in TRACKED} == {
        "budgets_budget",
        "budgets_category",
        "budgets_budgetuserobjectpermission",
        "budgets_budgetgroupobjectpermission",
        "households_membership",
        "transactions_transaction",
        "transactions_split",
        "transactions_splitshare",
        "transactions_settlement",
    }


def test_a_tables_change_log_can_be_removed_and_put_back():
    install, uninstall = triggers.history_triggers(transaction_tracking.TRANSACTION)
    budget = BudgetFactory()
    uninstall(None, MigrationEditor())
    try:
        assert not triggers.installed(connection, transaction_tracking.TRANSACTION)
        start = mark()
        TransactionFactory(budget=budget)
        assert events_after(start) == []
    finally:
        install(None, MigrationEditor())
    assert triggers.installed(connection, transaction_tracking.TRANSACTION)
    start = mark()
    TransactionFactory(budget=budget)
    assert len(events_after(start)) == 1


def test_the_sync_triggers_can_be_removed_and_put_back_with_the_row_versions():
    budget = BudgetFactory()
    tx = TransactionFactory(budget=budget)
    install, uninstall = sync.row_triggers("transactions_transaction", "transaction", movable=True)
    uninstall(None, MigrationEditor())
    try:
        before = BudgetKnowledge.objects.get(budget_id=budget.pk).server_knowledge
        Transaction.objects.filter(pk=tx.pk).update(notes="untracked")
        assert BudgetKnowledge.objects.get(budget_id=budget.pk).server_knowledge == before
        # The row version trigger is back as server/versioning.py writes it.
        assert Transaction.objects.get(pk=tx.pk).version == tx.version + 1
    finally:
        install(None, MigrationEditor())
    Transaction.objects.filter(pk=tx.pk).update(notes="tracked")
    assert Transaction.objects.get(pk=tx.pk).version == tx.version + 2


def test_the_databases_money_is_the_apis_for_every_currency():
    """PostgreSQL's history_money() is SQL written from MINOR_UNITS; SQLite's calls
    format_amount (history/context.py)."""
    values = (0, 1, 5, 10, 99, 100, 12_345, 999_999_999_999, -5, -12_345)
    with connection.cursor() as cursor:
        for currency in sorted(MINOR_UNITS):
            for value in values:
                cursor.execute("SELECT history_money(%s, %s)", [value, currency])
                assert cursor.fetchone()[0] == format_amount(value, currency), (currency, value)
        cursor.execute("SELECT history_money(NULL, 'EUR'), history_money(5, NULL)")
        assert cursor.fetchone() == (None, None)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("req-42.a:b_c", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("has space", False),
        ("", False),
        (None, False),
    ],
)
def test_a_clients_request_id_is_kept_only_if_it_is_plain(sent, kept):
    made = new_request_id(sent)
    assert (made == sent) is kept
    assert len(made) <= 64


def test_prune_history_deletes_the_events_older_than_its_days():
    budget = BudgetFactory()
    old = TransactionFactory(budget=budget)
    new = TransactionFactory(budget=budget)
    Event.objects.filter(object_id=old.pk, object_type="transaction").update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )
    Event.objects.filter(object_type="budget", object_id=budget.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )
    out = io.StringIO()
    call_command("prune_history", "--older-than", "30", stdout=out)
    assert "Deleted 2 history events" in out.getvalue()
    assert list(Event.objects.filter(budget_id=budget.pk).values_list("object_id", flat=True)) == [new.pk]
    call_command("prune_history", "--older-than", "1", stdout=out)
    assert Event.objects.filter(budget_id=budget.pk).count() == 1  # written today


@pytest.mark.parametrize("command", ["prune_history", "prune_tombstones"])
def test_a_retention_below_a_day_is_refused(command):
    with pytest.raises(CommandError):
        call_command(command, "--older-than", "0")
