"""Writes for transactions, one and many (the CSV import: transactions/imports.py). Multi-row
writes are all or nothing.

Every write first locks the budgets it writes to (budgets.services.lock_budgets, ascending
id) and then checks, under those locks, what it depends on: the budget still exists, the
caller may still change it, its currency is still the one the amounts were read in, each
category still belongs to it. A currency change, a category delete and a budget delete take
the same lock, so none of them can slip in between the check and the write.
"""

from collections.abc import Iterable

from django.db import transaction
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from budgets.models import Budget, Category
from budgets.services import lock_budgets, missing_budget_field
from permissions.scoping import require_all
from server.conditional import NO_PRECONDITION, Precondition
from server.exceptions import Conflict
from server.versioning import delete_at_version, save_fields
from transactions.models import Transaction

FIELDS = ("budget", "category", "kind", "amount_minor", "date", "payee", "description", "notes")


def cannot_edit(budget: Budget) -> str:
    return f'You can view budget "{budget.pk}" but not add or change its transactions.'


def _row(*, actor: User, data: dict) -> Transaction:
    return Transaction(created_by=actor, **{f: data[f] for f in FIELDS if f in data})


def _currency_changed(budget: Budget) -> Conflict:
    return Conflict(
        f'Budget "{budget.pk}" changed its currency to {budget.currency} while this request was '
        "being handled; nothing was recorded. Send the amounts again in the new currency.",
        code="currency_changed",
    )


def _moved_meanwhile() -> Conflict:
    return Conflict(
        "This transaction moved to another budget while your request was being handled; "
        "nothing was changed. Read it again and retry.",
        code="concurrent_change",
    )


def lock_writable(actor: User, seen: Iterable[Budget], *, priced: Iterable[int] = ()) -> dict[int, Budget]:
    """Locks the budgets about to be written (as they were when the request read them) and
    checks each again under its lock: gone -> 400 does_not_exist, no longer changeable ->
    403 (or does_not_exist if no longer visible at all), and for the budgets in ``priced``
    (whose amounts were read in their currency) a changed currency -> 409."""
    seen = {budget.pk: budget for budget in seen}
    locked = lock_budgets(seen)
    for pk in sorted(seen):
        if pk not in locked:
            raise missing_budget_field(pk)
    require_all(
        actor,
        [locked[pk] for pk in sorted(seen)],
        "change",
        message=cannot_edit,
        missing=lambda budget: missing_budget_field(budget.pk),
    )
    for pk in priced:
        if locked[pk].currency != seen[pk].currency:
            raise _currency_changed(locked[pk])
    return locked


def _categories_in(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (category, budget) pairs exist, read under the budgets' locks."""
    pairs = set(pairs)
    if not pairs:
        return set()
    ids = {category for category, _ in pairs}
    return set(Category.objects.filter(pk__in=ids).values_list("pk", "budget_id")) & pairs


def _missing_category(category_id: int, attr: str = "category") -> ValidationError:
    return ValidationError(
        {attr: [f'Invalid pk "{category_id}" - object does not exist.']}, code="does_not_exist"
    )


@transaction.atomic
def transaction_create(*, actor: User, **data) -> Transaction:
    budget = lock_writable(actor, [data["budget"]], priced={data["budget"].pk})[data["budget"].pk]
    category = data.get("category")
    if category is not None and not _categories_in([(category.pk, budget.pk)]):
        raise _missing_category(category.pk)
    row = _row(actor=actor, data={**data, "budget": budget})
    row.save()
    return row


@transaction.atomic
def transaction_update(
    *, tx: Transaction, actor: User, precondition: Precondition = NO_PRECONDITION, **data
) -> Transaction:
    """Changes only the fields sent, on the row as it is now; 404 if it was deleted
    meanwhile (never re-inserted). Moving it locks both budgets."""
    target = data.get("budget")
    ids = {tx.budget_id} | ({target.pk} if target is not None else set())
    locked = lock_budgets(ids)
    if tx.budget_id not in locked:
        raise NotFound()  # deleted with its budget
    if target is not None and target.pk not in locked:
        raise missing_budget_field(target.pk)
    current = Transaction.objects.select_related("created_by").filter(pk=tx.pk).first()
    if current is None:
        raise NotFound()
    if current.budget_id != tx.budget_id:
        raise _moved_meanwhile()
    require_all(
        actor,
        [locked[pk] for pk in sorted(ids)],
        "change",
        message=cannot_edit,
        missing=lambda budget: NotFound() if budget.pk == tx.budget_id else missing_budget_field(budget.pk),
    )
    final = locked[target.pk if target is not None else tx.budget_id]
    if "amount_minor" in data and final.currency != (target or tx.budget).currency:
        raise _currency_changed(final)
    if "amount_minor" not in data and final.currency != locked[tx.budget_id].currency:
        raise ValidationError(
            {"amount": ["Send the amount again: the new budget uses another currency."]}, code="required"
        )
    category = data.get("category") if "category" in data else None
    category_id = category.pk if category is not None else None
    if "category" not in data:
        category_id = current.category_id
    if category_id is not None and not _categories_in([(category_id, final.pk)]):
        if "category" in data:
            raise _missing_category(category_id)
        raise ValidationError(
            {"category": ["This category belongs to another budget."]}, code="category_budget_mismatch"
        )
    for name, value in data.items():
        setattr(current, name, value)
    current.budget = final
    precondition.check(current)
    save_fields(current, [*data, "updated_at"], precondition=precondition)
    return current


@transaction.atomic
def transaction_delete(
    *, tx: Transaction, actor: User | None = None, precondition: Precondition = NO_PRECONDITION
) -> None:
    """404 if another request deleted it first. ``actor=None``: the system (the admin)."""
    locked = lock_budgets([tx.budget_id])
    budget = locked.get(tx.budget_id)
    if budget is None:
        raise NotFound()
    current = Transaction.objects.filter(pk=tx.pk).only("budget_id", "version").first()
    if current is None:
        raise NotFound()
    if current.budget_id != budget.pk:
        raise _moved_meanwhile()
    if actor is not None:
        require_all(actor, [budget], "change", message=cannot_edit)
    precondition.check(current)
    delete_at_version(current, precondition=precondition)


@transaction.atomic
def transactions_bulk_create(*, actor: User, items: list[dict]) -> list[Transaction]:
    budgets = {item["budget"].pk: item["budget"] for item in items}
    locked = lock_writable(actor, budgets.values(), priced=set(budgets))
    wanted = {(item["category"].pk, item["budget"].pk) for item in items if item.get("category") is not None}
    present = _categories_in(wanted)
    for index, item in enumerate(items):
        category = item.get("category")
        if category is not None and (category.pk, item["budget"].pk) not in present:
            raise ValidationError(
                {str(index): {"category": [_missing_category(category.pk).detail["category"][0]]}}
            )
    rows = [_row(actor=actor, data={**item, "budget": locked[item["budget"].pk]}) for item in items]
    return Transaction.objects.bulk_create(rows, batch_size=500)
