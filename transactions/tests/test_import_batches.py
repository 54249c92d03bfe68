"""The import in batches (issue 16, item 5): a file validated and written BATCH_ROWS rows at a
time (on PostgreSQL by COPY from a second thread) records exactly what one batch records:
the same rows, skips, categories and splits, all or nothing, whatever the batch boundaries."""

import datetime
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection

from server.tests.helpers import assert_error
from transactions import imports
from transactions.models import SplitShare, Transaction
from transactions.tests.helpers import IMPORT_HEADER, db_state, import_csv
from transactions.tests.split_helpers import build_home
from transactions.tests.test_import_limits import _client
from transactions.tests.test_splits_import import HEADER as SPLIT_HEADER
from transactions.tests.test_splits_import import upload

pytestmark = pytest.mark.django_db

# world.groceries is 2026-01-10, 42.50, expense, Market, "weekly shop"; world has Food and Rent.
FILE = IMPORT_HEADER + (
    "2026-01-05,1.00,expense,Food,A,,\n"  # line 2
    "2026-01-06,2.00,expense,food,B,,\n"
    "2026-01-07,3.00,income,,C,,\n"
    "2026-01-10,42.50,expense,,Market,weekly shop,\n"  # line 5: duplicate of an existing row
    "2026-01-05,1.00,expense,Rent,A,,\n"  # line 6: duplicate of line 2
    "2026-02-01,4.00,expense,Travel,D,,\n"  # line 7: a category the budget lacks
    "2026-02-02,5.00,expense,TRAVEL,E,,\n"
    "2026-01-10,42.50,expense,Food,Market,weekly shop,again\n"  # line 9: existing again
    "2026-03-01,6.00,expense,Hobbies,F,,\n"  # line 10: another, first named in the last batch
    "2026-02-02,5.00,expense,,E,,\n"  # line 11: duplicate of line 8
)


def recorded(budget) -> list[tuple]:
    """The rows FILE can record (payees A to F), as comparable tuples."""
    return sorted(
        Transaction.objects.filter(budget=budget, payee__in="ABCDEF").values_list(
            "date", "amount_minor", "kind", "category__name", "payee", "description", "notes"
        )
    )


@pytest.mark.parametrize("batch_rows", [1, 3, 4, 10_000])
def test_a_file_in_batches_records_what_one_batch_records(world, as_, monkeypatch, batch_rows):
    monkeypatch.setattr(imports, "BATCH_ROWS", batch_rows)
    response = import_csv(as_("owner"), world.budget.pk, FILE, create_categories="true")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "dry_run": False,
        "created": 6,
        "skipped": [
            {"line": 5, "reason": "duplicate_of_existing"},
            {"line": 6, "reason": "duplicate_in_file"},
            {"line": 9, "reason": "duplicate_of_existing"},
            {"line": 11, "reason": "duplicate_in_file"},
        ],
        "categories_created": ["Hobbies", "Travel"],
    }
    day = datetime.date
    assert recorded(world.budget) == [
        (day(2026, 1, 5), 100, "expense", "Food", "A", "", ""),
        (day(2026, 1, 6), 200, "expense", "Food", "B", "", ""),
        (day(2026, 1, 7), 300, "income", None, "C", "", ""),
        (day(2026, 2, 1), 400, "expense", "Travel", "D", "", ""),
        (day(2026, 2, 2), 500, "expense", "Travel", "E", "", ""),
        (day(2026, 3, 1), 600, "expense", "Hobbies", "F", "", ""),
    ]


@pytest.mark.parametrize("batch_rows", [2, 10_000])
def test_a_dry_run_in_batches_counts_the_same_and_records_nothing(world, as_, monkeypatch, batch_rows):
    monkeypatch.setattr(imports, "BATCH_ROWS", batch_rows)
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, FILE, create_categories="true", dry_run="true")
    assert response.status_code == 200, response.json()
    assert (response.json()["created"], len(response.json()["skipped"])) == (6, 4)
    assert response.json()["categories_created"] == ["Hobbies", "Travel"]
    assert db_state() == before


def test_an_error_in_the_last_batch_undoes_the_batches_written_before_it(world, as_, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    content = FILE + "2026-04-01,1.999,expense,,G,,\n2026-04-02,1.00,expense,Nowhere,H,,\n"
    before = db_state()
    errors = assert_error(import_csv(as_("owner"), world.budget.pk, content), 400)["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [
        ("7.category", "unknown_category"),
        ("8.category", "unknown_category"),
        ("10.category", "unknown_category"),
        ("12.amount", "max_decimal_places"),
        ("13.category", "unknown_category"),
    ]
    assert db_state() == before


def test_text_comes_back_exactly_whatever_copy_would_read_in_it(world, as_, monkeypatch):
    """COPY's text format gives backslash, tab, CR and LF a meaning; the import escapes them."""
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    texts = ["back\\slash", "\\N", "tab\there", 'line\nbreak "quoted"', "cr\rhere", "\\t not a tab", "Ünï"]

    def quoted(text):
        return '"' + text.replace('"', '""') + '"'

    rows = "".join(
        f"2026-05-0{i + 1},1.00,expense,,{quoted(text)},d{i},{quoted(text)}\n" for i, text in enumerate(texts)
    )
    response = import_csv(as_("owner"), world.budget.pk, IMPORT_HEADER + rows)
    assert response.status_code == 201, response.json()
    stored = Transaction.objects.filter(budget=world.budget, date__month=5).order_by("date")
    assert [(t.payee, t.notes) for t in stored] == [(text, text) for text in texts]


@pytest.mark.parametrize("batch_rows", [1, 2, 10_000])
def test_splits_in_later_batches_divide_as_in_one(monkeypatch, client_for, batch_rows):
    monkeypatch.setattr(imports, "BATCH_ROWS", batch_rows)
    h = build_home()
    text = SPLIT_HEADER + (
        "2026-03-01,5.00,expense,,Alone,,,,\n"
        "2026-03-02,10.00,expense,,Market,,,alice@example.com,\n"
        "2026-03-03,7.00,expense,,Solo,,,,\n"
        "2026-03-04,1.00,expense,,Bakery,,,bob@example.com,bob@example.com:3; carol@example.com:1\n"
        "2026-03-05,30.00,income,,Refund,,,carol@example.com,alice@example.com;carol@example.com\n"
    )
    response = upload(client_for(h.alice), h.budget, text, household=h.home.pk)
    assert response.status_code == 201, response.json()
    shares = {
        tx.payee: dict(SplitShare.objects.filter(split_id=tx.pk).values_list("user_id", "amount_minor"))
        for tx in Transaction.objects.filter(budget=h.budget)
    }
    assert shares == {
        "Alone": {},
        "Market": {h.alice.pk: 334, h.bob.pk: 333, h.carol.pk: 333},
        "Solo": {},
        "Bakery": {h.bob.pk: 75, h.carol.pk: 25},
        "Refund": {h.alice.pk: -1500, h.carol.pk: -1500},
    }
    # The file's order is the rows' order, split or not.
    assert list(
        Transaction.objects.filter(budget=h.budget).order_by("pk").values_list("payee", flat=True)
    ) == [
        "Alone",
        "Market",
        "Solo",
        "Bakery",
        "Refund",
    ]


@contextmanager
def _slow_inserts(monkeypatch):
    """PostgreSQL: every row's insert sleeps 10 ms (a trigger), so a COPY of 100 rows outlives
    a 1 s statement_timeout on the writer's thread. SQLite, which has no statement time limit:
    the second batch's write fails as SQLite's write does when its lock wait runs out."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(0.01); RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_slow_insert BEFORE INSERT ON transactions_transaction "
                "FOR EACH ROW EXECUTE FUNCTION test_slow_insert()"
            )
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER test_slow_insert ON transactions_transaction")
                cursor.execute("DROP FUNCTION test_slow_insert()")
        return
    write, writes = imports._OrmWriter.write, []

    def locked_on_the_second(self, batch):
        writes.append(batch)
        if len(writes) == 2:
            raise OperationalError("database is locked")
        return write(self, batch)

    monkeypatch.setattr(imports._OrmWriter, "write", locked_on_the_second)
    yield
    monkeypatch.setattr(imports._OrmWriter, "write", write)
    assert len(writes) == 2  # the first batch was written, then undone


def test_a_write_past_the_time_limit_is_rolled_back_as_import_timeout(world, settings, monkeypatch):
    """The time limit reaches a batch's write (on PostgreSQL the COPY on the writer's thread):
    its error becomes the 503, nothing is recorded, and the connection serves the next request."""
    settings.IMPORT_TIMEOUT_SECONDS = 1
    monkeypatch.setattr(imports, "BATCH_ROWS", 100)
    owner = _client(world.owner)
    before = db_state()
    rows = "".join(f"2026-06-{1 + i % 28:02d},{i + 1}.00,expense,,Slow {i},,\n" for i in range(300))
    with _slow_inserts(monkeypatch):
        response = import_csv(owner, world.budget.pk, IMPORT_HEADER + rows)
    assert_error(response, 503, "import_timeout", attr=None)
    assert db_state() == before
    after = import_csv(owner, world.budget.pk, IMPORT_HEADER + "2026-07-01,1.00,expense,,Ok,,\n")
    assert after.status_code == 201, after.json()


def test_an_import_past_its_time_limit_between_batches_is_rolled_back(world, settings, monkeypatch):
    """The limit bounds the whole import, not only each statement: checked before each batch
    is written, past it the batches already written are undone (503)."""
    settings.IMPORT_TIMEOUT_SECONDS = 30
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    readings = iter([0.0, 1.0, 1000.0])  # the deadline's start, batch 1 in time, batch 2 late
    monkeypatch.setattr(imports, "monotonic", lambda: next(readings, 1000.0))
    before = db_state()
    response = import_csv(_client(world.owner), world.budget.pk, FILE)
    assert_error(response, 503, "import_timeout", attr=None)
    assert db_state() == before


def test_the_cycle_collector_is_back_on_after_an_import_whatever_its_answer(world, as_):
    import gc

    assert gc.isenabled()
    assert import_csv(as_("owner"), world.budget.pk, FILE, create_categories="true").status_code == 201
    assert gc.isenabled()
    unknown = IMPORT_HEADER + "2026-04-01,1.00,expense,Nowhere,G,,\n"
    assert import_csv(as_("owner"), world.budget.pk, unknown).status_code == 400
    assert gc.isenabled()
    assert import_csv(as_("owner"), world.budget.pk, "when,what\n1,2\n").status_code == 400  # header
    assert gc.isenabled()
