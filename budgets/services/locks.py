"""The lock every write to a budget's subtree takes first (docs/architecture.md, the lock
order): the budget row, then what the write depends on is read again under it."""

from django.db import connections
from django.db.transaction import TransactionManagementError
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from budgets.models import Budget
from history import context as history
from permissions.scoping import (
    caller,
    dangerously_unscoped,
    is_active_user,
    require_all,
    visible,
    visible_among_sql,
)
from server.compiled import compiled_sql, pk_among
from server.database import rows_of_each


def lock_budgets(ids, *, for_delete: bool = False) -> dict[int, Budget]:
    """Locks the budget rows, ascending id, until the transaction ends; returns the ones
    that still exist, freshly read. FOR NO KEY UPDATE unless the budget is about to be
    deleted, so rows that merely reference it (a new transaction's foreign key) still go in."""
    locked, _allowed = lock_budgets_reading_rights(ids, for_delete=for_delete)
    return locked


def lock_budgets_reading_rights(
    ids,
    *,
    for_delete: bool = False,
    actor: User | None = None,
    action: str = "change",
    seen_by: User | None = None,
) -> tuple[dict[int, Budget], set[int] | None]:
    """lock_budgets(ids), and which of them ``actor`` may ``action`` as read right after the
    locks were taken (visible_among; require_all's ``allowed``). On PostgreSQL the two
    statements, and the transaction's BEGIN, travel in one round trip (server.database.
    rows_of_each); the second still starts once the first holds its locks. None for the
    rights where they cannot be sent so (no actor, SQLite): require_all reads them.

    ``seen_by``: lock and return only the budgets that user can view (visible_to), so that
    the lock itself is the read a request validates its body with, and a budget the caller
    cannot see is never locked on their behalf."""
    connection = connections[Budget.objects.db]
    if connection.features.has_select_for_update and connection.get_autocommit():
        # What the ORM says of select_for_update, which SQL compiled once no longer asks.
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    ids = list(ids)
    if seen_by is not None and not is_active_user(seen_by):
        return {}, set()
    among, lookup = pk_among(ids)

    def locking(budget_ids, viewer_id=None):
        budgets = dangerously_unscoped(
            Budget, reason="locks rows by id; every caller checks the right under the lock"
        ).filter(**lookup(budget_ids))
        if viewer_id is None:
            return budgets.select_for_update(no_key=not for_delete).order_by("pk")
        # OF: the budget rows alone, never the sharing rows the scope reads.
        budgets = budgets.filter(pk__in=visible(Budget, caller(viewer_id)).values("pk"))
        return budgets.select_for_update(no_key=not for_delete, of=("self",)).order_by("pk")

    viewer = () if seen_by is None else (seen_by.pk,)
    if connection.vendor != "postgresql":
        return {budget.pk: budget for budget in locking(among, *viewer)}, None
    # The change log's context rides on the lock, the statement before the first write.
    settings = history.current().settings()
    columns = [field.attname for field in Budget._meta.concrete_fields]

    def build(budget_ids, *values):
        viewer_id, values = (values[0], values[1:]) if viewer else (None, values)
        column = history.settings_column(*values)
        return (
            locking(budget_ids, viewer_id)
            .annotate(history_settings=column)
            .values_list(*columns, "history_settings")
        )

    key = ("lock-budgets", for_delete, lookup, bool(viewer))
    statements = [compiled_sql(key, build, among, *viewer, *settings)]
    rights = None if actor is None else visible_among_sql(Budget, actor, ids, action)
    if rights is not None:
        statements.append(rights)
    rows, *allowed = rows_of_each(statements)
    if rows:
        history.settings_sent(connection, settings)
    locked = {row[0]: Budget.from_db(connection.alias, columns, row[:-1]) for row in rows}
    return locked, {row[0] for row in allowed[0]} if allowed else None


def locked_budget(budget_id: int, *, for_delete: bool = False) -> Budget:
    """The budget, locked and freshly read; 404 if it was deleted meanwhile."""
    budget = lock_budgets([budget_id], for_delete=for_delete).get(budget_id)
    if budget is None:
        raise NotFound()
    return budget


def missing_budget_field(budget_id: int) -> ValidationError:
    """A budget named in the body that was deleted meanwhile reads like an unknown id."""
    return ValidationError(
        {"budget": [f'Invalid pk "{budget_id}" - object does not exist.']}, code="does_not_exist"
    )


def require_change(actor: User | None, budget: Budget, **kwargs) -> None:
    """The caller's right to change the budget, read again under its lock (it may have been
    revoked since the request looked the budget up). ``actor=None``: the system (the
    admin's delete, seeding), which is not checked."""
    if actor is not None:
        require_all(
            actor,
            [budget],
            "change",
            message=lambda b: "You can view this budget but not change it.",
            **kwargs,
        )
