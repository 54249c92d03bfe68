"""The CSV import's service: check the rows (categories, splits, duplicates) and record them,
all or none, under the budget's lock; bounded in time (IMPORT_TIMEOUT_SECONDS) and, with
transactions/import_slots.py, in how many run at once.

A file goes through in batches of BATCH_ROWS rows: each is validated, checked against what
the whole file has named so far (categories and split members read once, duplicates by one
query per batch at most) and written. On PostgreSQL the writes are COPY statements run on the
request's own connection from a second thread, so that PostgreSQL writes one batch (its
indexes and triggers, most of an import's time) while Python validates the next; the main
thread sends no statement while a COPY runs. Elsewhere, bulk_create per batch. A row with an
error stops the writing; the remaining rows are still checked, so that the 400 names every
error, and the transaction is rolled back (docs/performance.md, issue 16 item 5).
"""

import datetime
import gc
import re
import threading
from contextlib import contextmanager
from time import monotonic, perf_counter

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from psycopg.errors import QueryCanceled

from accounts.models import User
from budgets.models import Budget, Category
from history.context import before_raw_write
from server.exceptions import ServiceUnavailable
from transactions.csv_io import Records, RowParser, errors_as_validation_error
from transactions.models import Split, SplitShare, Transaction
from transactions.services import lock_writable
from transactions.splits.services import ImportSplits, lock_split_households, split_error

BATCH_ROWS = 4000


def transactions_import(**kwargs) -> dict:
    """Imports a file's rows (``records``: csv_io.read_records, validated here in the budget's
    currency): every row and the missing categories, or nothing (a ValidationError naming
    each "<line>.<field>"). The rows are checked under the budget's lock, so two imports of
    one file at once record each row once.

    A ``dry_run`` is the same run, writes included, rolled back at its end: it refuses what
    the real run would refuse, with the same errors, and counts what the real run would
    record at that moment, so the two cannot drift apart.

    Bounded by IMPORT_TIMEOUT_SECONDS: on PostgreSQL each statement (a lock wait included),
    on SQLite the wait for the write lock, and the whole import, checked before each batch is
    written; past it the import is rolled back (503)."""
    deadline = monotonic() + settings.IMPORT_TIMEOUT_SECONDS
    with _sqlite_lock_wait(settings.IMPORT_TIMEOUT_SECONDS):
        try:
            return _import(**kwargs, deadline=deadline)
        except OperationalError as exc:
            if not (isinstance(exc.__cause__, QueryCanceled) or "database is locked" in str(exc)):
                raise
            raise _timed_out() from None


def _timed_out() -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The import took longer than {settings.IMPORT_TIMEOUT_SECONDS} s and was rolled back; "
        "nothing was recorded. Try again later, or split the file.",
        code="import_timeout",
    )


@contextmanager
def cyclic_gc_paused():
    """Python's cycle collector off while a file is read, validated and written: a 50,000-row
    file is some 400,000 lists, tuples and dicts, none in a cycle, which the collector would
    otherwise walk again and again as they pile up (a third of the parsing's time). Back on
    afterwards, unless something else had it off before; objects are still freed by reference
    counting throughout."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _sqlite_lock_wait(seconds: int):
    if connection.vendor != "sqlite":
        yield
        return
    usual = int(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) * 1000)
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {usual}")


@transaction.atomic
def _import(
    *,
    actor: User,
    budget: Budget,
    records: Records,
    create_categories: bool,
    dry_run: bool,
    deadline: float,
    household=None,
) -> dict:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)", [f"{settings.IMPORT_TIMEOUT_SECONDS}s"]
            )
    parser = RowParser(records.names, currency=budget.currency)
    batches = (
        parser.parse(records.rows[start : start + BATCH_ROWS])
        for start in range(0, len(records.rows), BATCH_ROWS)
    )
    splitting = False
    if records.may_split:
        # Whether any row splits decides the first lock (the household's, before the budget's)
        # and the first errors: such a file is validated whole before anything is locked.
        batches = list(batches)
        splitting = any(row["split"] for rows, _ in batches for _, row in rows)
        if splitting and household is None:
            raise split_error(
                ("household",),
                "Rows name paid_by or split_with: say which household they share the costs of.",
                "required",
            )
        if splitting and not lock_split_households([household.pk]):
            raise split_error(
                ("household",), f'Invalid pk "{household.pk}" - object does not exist.', "does_not_exist"
            )
    locked = lock_writable(actor, [budget], priced={budget.pk})[budget.pk]
    splits = ImportSplits(household=household, budget=locked, actor=actor) if splitting else None
    plan = _Plan(budget=locked, create_categories=create_categories, splits=splits)
    writer_class = _CopyWriter if connection.vendor == "postgresql" else _OrmWriter
    with writer_class(budget=locked, actor=actor, splits=splits) as writer:
        for rows, errors in batches:  # validating a batch while the writer records the one before
            batch = plan.batch(plan.check(rows, errors), before_queries=writer.wait)
            if batch:
                if monotonic() > deadline:
                    raise _timed_out()
                writer.write(batch)
    if plan.errors:
        raise errors_as_validation_error(sorted(plan.errors, key=lambda e: (e["line"], e["field"] or "")))
    if dry_run:
        transaction.set_rollback(True)  # this function's atomic block: everything above is undone
    return {
        "dry_run": dry_run,
        "created": plan.created,
        "skipped": plan.skipped,
        "categories_created": sorted(plan.new_names.values()),
    }


class _Plan:
    """What the import records, batch by batch: each row's category (one query for the
    budget's categories, the missing ones created as the file first names them, with
    create_categories), its split, and whether it repeats an existing row or an earlier one.
    After the first error nothing more is planned for writing; errors are still collected."""

    def __init__(self, *, budget: Budget, create_categories: bool, splits: ImportSplits | None):
        self.budget, self.create_categories, self.splits = budget, create_categories, splits
        self.categories = {name.lower(): pk for pk, name in budget.categories.values_list("pk", "name")}
        self.new_names: dict[str, str] = {}  # lower-cased -> as the file first spells it
        self.errors: list[dict] = []
        self.duplicates = _Duplicates(budget)
        self.skipped: list[dict] = []
        self.created = 0

    def check(self, rows: list[tuple[int, dict]], errors: list[dict]) -> list[tuple[int, dict, dict | None]]:
        """Python only: a batch's rows that hold, with their split; the others' errors kept."""
        self.errors.extend(errors)
        checked = []
        for line, row in rows:
            spec, failed = None, False
            if row["split"] is not None:
                spec, error = self.splits.resolve(line, row["split"])
                if error is not None:
                    self.errors.append(error)
                    failed = True
            name = row["category_name"]
            if name and name.lower() not in self.categories:
                if self.create_categories:
                    self.new_names.setdefault(name.lower(), name)
                else:
                    self.errors.append(
                        {
                            "line": line,
                            "field": "category",
                            "code": "unknown_category",
                            "detail": f'This budget has no category "{name}".',
                        }
                    )
                    failed = True
            if not failed:  # a row with an error is never created
                checked.append((line, row, spec))
        return checked

    def batch(self, checked, *, before_queries) -> list[tuple[dict, int | None, dict | None]]:
        """The rows of a batch to record, as (row, category id, split spec); none once the
        file has an error. Creates the categories the batch names first, and reads the
        budget's rows on dates not read yet, after ``before_queries()`` (the writer's wait):
        a batch that needs neither is planned while the one before is still being written."""
        if self.errors:
            return []
        missing = [(lower, name) for lower, name in self.new_names.items() if lower not in self.categories]
        if missing or self.duplicates.unread(checked):
            before_queries()
        if missing:
            created = Category.objects.bulk_create(
                [Category(budget=self.budget, name=name) for _, name in missing]
            )
            self.categories.update(
                (lower, category.pk) for (lower, _), category in zip(missing, created, strict=True)
            )
        keep, skipped = self.duplicates.split(checked)
        self.skipped.extend(skipped)
        self.created += len(keep)
        categories = self.categories
        return [
            (row, categories[row["category_name"].lower()] if row["category_name"] else None, spec)
            for row, spec in keep
        ]


class _Duplicates:
    """Rows identical to an existing transaction (date, amount, kind, payee, description), or
    to an earlier row of the file, are skipped and reported. The budget's rows are read by
    date range as the batches reach new dates: one query per batch at most, none for a
    batch whose dates were all read.

    A key the file has already recorded is a duplicate_in_file, checked first: the budget's
    rows read after a batch was written include that batch, and every key it recorded is in
    ``seen``; a key not in ``seen`` was never recorded by this import, so finding it among
    the budget's rows means it existed before (duplicate_of_existing)."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.existing: set[tuple] = set()
        self.read: list[tuple[datetime.date, datetime.date]] = []  # date ranges read so far
        self.seen: set[tuple] = set()

    def unread(self, checked) -> list[datetime.date]:
        """The batch's dates outside every range read so far."""
        read = self.read
        return [
            row["date"] for _, row, _ in checked if not any(low <= row["date"] <= high for low, high in read)
        ]

    def split(self, checked) -> tuple[list[tuple[dict, dict | None]], list[dict]]:
        unread = self.unread(checked)
        if unread:
            low, high = min(unread), max(unread)
            self.existing.update(
                Transaction.objects.filter(budget=self.budget, date__gte=low, date__lte=high).values_list(
                    "date", "amount_minor", "kind", "payee", "description"
                )
            )
            self.read.append((low, high))
        keep, skipped = [], []
        for line, row, spec in checked:
            key = (row["date"], row["amount_minor"], row["kind"], row["payee"], row["description"])
            if key in self.seen:
                skipped.append({"line": line, "reason": "duplicate_in_file"})
            elif key in self.existing:
                skipped.append({"line": line, "reason": "duplicate_of_existing"})
            else:
                self.seen.add(key)
                keep.append((row, spec))
        return keep, skipped


class _OrmWriter:
    """SQLite (and any other database): bulk_create per batch, in the request's thread."""

    def __init__(self, *, budget: Budget, actor: User, splits: ImportSplits | None):
        self.budget, self.actor, self.splits = budget, actor, splits

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def wait(self) -> None:
        pass

    def write(self, batch: list[tuple[dict, int | None, dict | None]]) -> None:
        created = Transaction.objects.bulk_create(
            [
                Transaction(
                    budget=self.budget,
                    created_by=self.actor,
                    category_id=category,
                    **{name: row[name] for name in _ROW_FIELDS},
                )
                for row, category, _ in batch
            ],
            batch_size=1000,
        )
        splits, shares = [], []
        for tx, (_, _, spec) in zip(created, batch, strict=True):
            if spec is not None:
                split, parts = self.splits.rows(
                    tx_id=tx.pk, amount_minor=tx.amount_minor, kind=tx.kind, spec=spec
                )
                splits.append(Split(**split))
                shares.extend(SplitShare(**part) for part in parts)
        Split.objects.bulk_create(splits, batch_size=1000)
        SplitShare.objects.bulk_create(shares, batch_size=2000)


_ROW_FIELDS = ("kind", "amount_minor", "date", "payee", "description", "notes")
_COLUMNS = (
    "budget_id, created_by_id, category_id, kind, amount_minor, date, payee, description, notes, "
    "created_at, updated_at"
)
_SPLIT_COLUMNS = ("transaction_id", "household_id", "paid_by_id", "mode", "currency", "created_at")
_SHARE_COLUMNS = ("split_id", "household_id", "currency", "user_id", "payer_id", "amount_minor", "weight")
# COPY's text format: a backslash, tab, line feed or carriage return inside a value is escaped.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    return _copy_text(value) if isinstance(value, str) else str(value)


class _CopyWriter:
    """PostgreSQL: each batch in COPY statements (its transactions, then their splits and
    shares), run from a thread of its own on the request's connection while the request
    validates the next batch. ``wait()`` joins it and raises what it raised, as Django
    would have (an OperationalError caused by QueryCanceled past the time limit), before
    the request sends any statement of its own; leaving the block waits too, so the
    transaction never ends under a running COPY.

    Rows that split need their ids before they are written (their splits name them): a
    batch holding one takes its ids from the table's sequence first, in one query, and
    names them in its COPY."""

    def __init__(self, *, budget: Budget, actor: User, splits: ImportSplits | None):
        self.budget, self.actor, self.splits = budget, actor, splits
        now = timezone.now().isoformat()
        self.now = now
        # Every row's columns but its own: the same for each row of the import.
        self.fixed = (f"{budget.pk}\t{actor.pk}\t", f"\t{now}\t{now}\n")
        self.thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        self.copied: list[tuple[str, float]] = []  # the thread's statements, logged by _join()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.wait()
        else:  # the request's own error wins; the COPY is still waited for
            self._join()
        return False

    def _join(self) -> BaseException | None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if connection.queries_logged:  # as Django logs its own statements (query counts in tests)
            logged = [{"sql": sql, "time": f"{seconds:.3f}"} for sql, seconds in self.copied]
            connection.queries_log.extend(logged)
        self.copied = []
        failure, self.failure = self.failure, None
        return failure

    def wait(self) -> None:
        failure = self._join()
        if failure is not None:
            with connection.wrap_database_errors:  # psycopg's error as Django's, as execute() raises it
                raise failure

    def write(self, batch: list[tuple[dict, int | None, dict | None]]) -> None:
        """Starts the batch's COPY once the one before is done; a batch without splits is
        rendered first, while it may still run."""
        statements = [(f"COPY {Transaction._meta.db_table} ({_COLUMNS}) FROM STDIN", None)]
        if any(spec is not None for _, _, spec in batch):
            self.wait()
            ids = self._ids(len(batch))
            statements = [(f"COPY {Transaction._meta.db_table} (id, {_COLUMNS}) FROM STDIN", ids)]
            splits, shares = [], []
            for tx_id, (row, _, spec) in zip(ids, batch, strict=True):
                if spec is not None:
                    split, parts = self.splits.rows(
                        tx_id=tx_id, amount_minor=row["amount_minor"], kind=row["kind"], spec=spec
                    )
                    splits.append({**split, "created_at": self.now})
                    shares.extend(parts)
            payloads = [
                self._rows(batch, ids),
                "".join("\t".join(_copy_value(s[c]) for c in _SPLIT_COLUMNS) + "\n" for s in splits),
                "".join("\t".join(_copy_value(s[c]) for c in _SHARE_COLUMNS) + "\n" for s in shares),
            ]
            statements += [
                (f"COPY {Split._meta.db_table} ({', '.join(_SPLIT_COLUMNS)}) FROM STDIN", None),
                (f"COPY {SplitShare._meta.db_table} ({', '.join(_SHARE_COLUMNS)}) FROM STDIN", None),
            ]
        else:
            payloads = [self._rows(batch, None)]
            self.wait()
        work = [(sql, payload) for (sql, _), payload in zip(statements, payloads, strict=True)]
        # COPY passes no cursor wrapper: the change log's context goes first, from this thread.
        before_raw_write(connection)
        raw = connection.connection  # psycopg's connection: thread-safe, and idle until wait()
        self.thread = threading.Thread(target=self._copy, args=(raw, work), name="import-copy", daemon=True)
        self.thread.start()

    def _copy(self, raw, work: list[tuple[str, str]]) -> None:
        try:
            with raw.cursor() as cursor:
                for sql, payload in work:
                    start = perf_counter()
                    with cursor.copy(sql) as copy:
                        copy.write(payload)
                    self.copied.append((sql, perf_counter() - start))
        except BaseException as exc:  # raised in the request's thread by wait()
            self.failure = exc

    def _ids(self, count: int) -> list[int]:
        table = Transaction._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [pk for (pk,) in cursor.fetchall()]

    def _rows(self, batch, ids: list[int] | None) -> str:
        head, tail = self.fixed
        special, text, null = _COPY_SPECIAL.search, _copy_text, "\\N"
        lines = []
        for row, category, _ in batch:
            payee, description, notes = row["payee"], row["description"], row["notes"]
            if special(payee) or special(description) or special(notes):
                payee, description, notes = text(payee), text(description), text(notes)
            lines.append(
                f"{head}{null if category is None else category}\t{row['kind']}\t{row['amount_minor']}\t"
                f"{row['date'].isoformat()}\t{payee}\t{description}\t{notes}{tail}"
            )
        if ids is not None:
            lines = [f"{pk}\t{line}" for pk, line in zip(ids, lines, strict=True)]
        return "".join(lines)
