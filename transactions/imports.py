"""The CSV import's service: plan the rows (duplicates, unknown categories) and record them,
all or none, under the budget's lock; bounded in time (IMPORT_TIMEOUT_SECONDS) and, with
transactions/import_slots.py, in how many run at once."""

from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from psycopg.errors import QueryCanceled

from accounts.models import User
from budgets.models import Budget, Category
from history.context import before_raw_write
from server.exceptions import ServiceUnavailable
from transactions.csv_io import errors_as_validation_error
from transactions.models import Transaction
from transactions.services import lock_writable
from transactions.splits.services import (
    import_split_specs,
    lock_split_households,
    split_error,
    splits_bulk_insert,
)


def _duplicate_key(row: dict) -> tuple:
    return (row["date"], row["amount_minor"], row["kind"], row["payee"], row["description"])


def _without_duplicates(budget: Budget, rows: list[tuple[int, dict]]):
    """Rows identical to an existing transaction (date, amount, kind, payee, description),
    or to an earlier row of the file, are skipped and reported."""
    if not rows:
        return [], []
    dates = [row["date"] for _, row in rows]
    existing = set(
        Transaction.objects.filter(budget=budget, date__gte=min(dates), date__lte=max(dates)).values_list(
            "date", "amount_minor", "kind", "payee", "description"
        )
    )
    seen: set = set()
    keep, skipped = [], []
    for line, row in rows:
        key = _duplicate_key(row)
        if key in existing:
            skipped.append({"line": line, "reason": "duplicate_of_existing"})
        elif key in seen:
            skipped.append({"line": line, "reason": "duplicate_in_file"})
        else:
            seen.add(key)
            keep.append((line, row))
    return keep, skipped


def transactions_import(**kwargs) -> dict:
    """Imports parsed CSV rows ((line, row) pairs, amounts read in the budget's currency):
    every row and the missing categories, or nothing (a ValidationError naming each
    "<line>.<field>"). The plan is made under the budget's lock, so two imports of one file
    at once record each row once.

    A ``dry_run`` is the same run, writes included, rolled back at its end: it refuses what
    the real run would refuse, with the same errors, and counts what the real run would
    record at that moment, so the two cannot drift apart.

    Bounded by IMPORT_TIMEOUT_SECONDS: on PostgreSQL each statement (a lock wait included),
    on SQLite the wait for the write lock; past it the import is rolled back (503)."""
    with _sqlite_lock_wait(settings.IMPORT_TIMEOUT_SECONDS):
        try:
            return _import(**kwargs)
        except OperationalError as exc:
            if not (isinstance(exc.__cause__, QueryCanceled) or "database is locked" in str(exc)):
                raise
            raise ServiceUnavailable(
                f"The import took longer than {settings.IMPORT_TIMEOUT_SECONDS} s and was rolled back; "
                "nothing was recorded. Try again later, or split the file.",
                code="import_timeout",
            ) from None


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
    rows: list[tuple[int, dict]],
    errors: list[dict],
    create_categories: bool,
    dry_run: bool,
    household=None,
) -> dict:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)", [f"{settings.IMPORT_TIMEOUT_SECONDS}s"]
            )
    splitting = [(line, row) for line, row in rows if row.get("split")]
    if splitting and household is None:
        raise split_error(
            ("household",),
            "Rows name paid_by or split_with: say which household they share the costs of.",
            "required",
        )
    # The lock order: the household first, then the budget.
    if splitting and not lock_split_households([household.pk]):
        raise split_error(
            ("household",), f'Invalid pk "{household.pk}" - object does not exist.', "does_not_exist"
        )
    locked = lock_writable(actor, [budget], priced={budget.pk})[budget.pk]
    specs: dict[int, dict] = {}
    if splitting:
        specs, split_errors = import_split_specs(
            household=household, budget=locked, actor=actor, rows=splitting
        )
        errors = [*errors, *split_errors]
    categories = {name.lower(): pk for pk, name in locked.categories.values_list("pk", "name")}
    errors = list(errors)
    new_names: dict[str, str] = {}
    for line, row in rows:
        name = row["category_name"]
        if name and name.lower() not in categories:
            if create_categories:
                new_names.setdefault(name.lower(), name)
            else:
                errors.append(
                    {
                        "line": line,
                        "field": "category",
                        "code": "unknown_category",
                        "detail": f'This budget has no category "{name}".',
                    }
                )
    failed = {error["line"] for error in errors}  # a row with an error is never created
    to_create, skipped = _without_duplicates(locked, [(n, row) for n, row in rows if n not in failed])
    errors.sort(key=lambda e: (e["line"], e["field"] or ""))
    if errors:
        raise errors_as_validation_error(errors)
    for name in new_names.values():
        categories[name.lower()] = Category.objects.create(budget=locked, name=name).pk
    planned = [
        (
            line,
            {
                **row,
                "category_id": categories[row["category_name"].lower()] if row["category_name"] else None,
            },
        )
        for line, row in to_create
    ]
    _insert_imported(budget=locked, actor=actor, rows=[row for line, row in planned if line not in specs])
    if specs:
        # Rows with a split need their ids back: bulk_create's RETURNING, not COPY.
        split_rows = [(line, row) for line, row in planned if line in specs]
        created = Transaction.objects.bulk_create(
            [_transaction(locked, actor, row) for _, row in split_rows], batch_size=1000
        )
        members = household.memberships.values_list("user_id", flat=True)
        splits_bulk_insert(
            budget=locked,
            pairs=[(tx, specs[line]) for tx, (line, _) in zip(created, split_rows, strict=True)],
            members=members,
        )
    if dry_run:
        transaction.set_rollback(True)  # this function's atomic block: everything above is undone
    return {
        "dry_run": dry_run,
        "created": len(to_create),
        "skipped": skipped,
        "categories_created": sorted(new_names.values()),
    }


_IMPORT_COLUMNS = (
    "budget_id",
    "created_by_id",
    "category_id",
    "kind",
    "amount_minor",
    "date",
    "payee",
    "description",
    "notes",
    "created_at",
    "updated_at",
)


def _transaction(budget: Budget, actor: User, row: dict) -> Transaction:
    return Transaction(
        budget=budget,
        created_by=actor,
        **{k: v for k, v in row.items() if k not in ("category_name", "split")},
    )


def _insert_imported(*, budget: Budget, actor: User, rows: list[dict]) -> None:
    """Inserts an import's rows. On PostgreSQL with COPY, in one statement: building
    Django's multi-row INSERTs cost most of a large import (50,000 rows: 10 s of 17); the
    counters' statement trigger fires once. Elsewhere, bulk_create."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        Transaction.objects.bulk_create([_transaction(budget, actor, row) for row in rows], batch_size=1000)
        return
    table = Transaction._meta.db_table
    columns = ", ".join(_IMPORT_COLUMNS)
    before_raw_write(connection)  # COPY passes no cursor wrapper: the change log's context first
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                (
                    budget.pk,
                    actor.pk,
                    row["category_id"],
                    row["kind"],
                    row["amount_minor"],
                    row["date"],
                    row["payee"],
                    row["description"],
                    row["notes"],
                    now,
                    now,
                )
            )
