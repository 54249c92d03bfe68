"""Writes for transactions, one and many (the CSV import: transactions/imports.py). Multi-row
writes are all or nothing.

Every write first locks the budgets it writes to (budgets.services.lock_budgets, ascending
id; the caller's right travels with the lock, lock_budgets_reading_rights) and then checks,
under those locks, what it depends on: the budget still exists, the caller may still change
it, its currency is still the one the amounts were read in, each category still belongs to
it. A currency change, a category delete and a budget delete take the same lock, so none of
them can slip in between the check and the write.

A write that makes, changes or drops a split (transactions/splits/) locks the split's
households before the budgets (docs/architecture.md, the lock order).
"""

import json
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from budgets.models import Budget, Category
from budgets.services import lock_budgets_reading_rights, missing_budget_field
from permissions.scoping import owns, require_all
from server.conditional import NO_PRECONDITION, Precondition
from server.exceptions import Conflict
from server.versioning import delete_at_version, save_fields
from transactions.models import Split, Transaction
from transactions.rows import PageRow
from transactions.splits.services import SplitWriter, households_of, lock_split_households, split_delete

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
    locked, allowed = lock_budgets_reading_rights(seen, actor=_unless_owner(actor, *seen.values()))
    for pk in sorted(seen):
        if pk not in locked:
            raise missing_budget_field(pk)
    _require_writable(actor, [locked[pk] for pk in sorted(seen)], allowed)
    for pk in priced:
        if locked[pk].currency != seen[pk].currency:
            raise _currency_changed(locked[pk])
    return locked


def _require_writable(actor: User, locked: list[Budget], allowed: set[int] | None) -> None:
    """The right to add transactions to each locked budget, read under the lock: 403, or the
    unknown id's 400 for a budget the caller can no longer even view."""
    require_all(
        actor,
        locked,
        "change",
        message=cannot_edit,
        missing=lambda budget: missing_budget_field(budget.pk),
        allowed=allowed,
    )


def _unless_owner(actor: User | None, *budgets: Budget | None) -> User | None:
    """The actor whose right to change ``budgets`` (as the request read them; None: not
    read) is read with their lock, or None when there is no right to read: the actor owns
    them all (require_all sees it again on the locked rows) or is the system."""
    if actor is None or all(budget is not None and owns(actor, budget) for budget in budgets):
        return None
    return actor


def _budget_read(tx: Transaction) -> Budget | None:
    return tx.budget if Transaction.budget.is_cached(tx) else None


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


_UNCHANGED = object()


def _split_household(tx: Transaction) -> int | None:
    """The household of ``tx``'s split, as the request read it (the views join the split in);
    read again under the locks from the row the service re-reads."""
    if Transaction.split.is_cached(tx):
        split = tx._state.fields_cache["split"]
        return None if split is None else split.household_id
    return Split.objects.filter(pk=tx.pk).values_list("household_id", flat=True).first()


@transaction.atomic
def transaction_create(*, actor: User, split: dict | None = None, **data) -> Transaction:
    households = lock_split_households(households_of([split]))
    budget = lock_writable(actor, [data["budget"]], priced={data["budget"].pk})[data["budget"].pk]
    return _record(actor, data, budget, split=split, households=households)


@transaction.atomic
def transaction_create_in(
    budget_id: int, *, actor: User, validated: Callable[[dict[int, Budget]], dict]
) -> Transaction:
    """transaction_create for a body without a split that names its budget by id, with the
    budget read once: by its lock, which takes the budget only if ``actor`` can view it, in
    the round trip that also reads their right to change it (lock_budgets_reading_rights).
    ``validated(rows)`` validates the body with those rows (the budget by id, or none) and
    returns what transaction_create takes; its errors come before the right's, as they do
    when the budget is read before the lock. The amounts are read in the currency the
    budget has under the lock, so it cannot change between the two."""
    locked, allowed = lock_budgets_reading_rights([budget_id], actor=actor, seen_by=actor)
    data = validated(locked)
    budget = data["budget"]
    if budget is not locked.get(budget.pk) or data.get("split"):
        raise ValueError("validated() must take the budget it was given and no split")
    _require_writable(actor, [budget], allowed)
    return _record(actor, data, budget)


def _record(actor: User, data: dict, budget: Budget, *, split=None, households=frozenset()) -> Transaction:
    """The new row in ``budget``, locked and checked, with its split if it has one."""
    category = data.get("category")
    if category is not None and not _categories_in([(category.pk, budget.pk)]):
        raise _missing_category(category.pk)
    row = _row(actor=actor, data={**data, "budget": budget})
    row.save()
    if split:
        SplitWriter(actor=actor, locked_households=households).write(tx=row, budget=budget, spec=split)
    else:
        row._state.fields_cache["split"] = None  # known: none (the answer reads no split)
    return row


@transaction.atomic
def transaction_update(
    *, tx: Transaction, actor: User, precondition: Precondition = NO_PRECONDITION, **data
) -> Transaction:
    """Changes only the fields sent, on the row as it is now; 404 if it was deleted
    meanwhile (never re-inserted). Moving it locks both budgets.

    ``split``: a new split (replacing any), or None to remove it; left out, a split the
    transaction has is divided again, the same way, when its amount, kind or budget changes."""
    split = data.pop("split", _UNCHANGED)
    stored = _split_household(tx)
    households = lock_split_households(
        ({stored} if stored is not None else set())
        | households_of([split if isinstance(split, dict) else None])
    )
    target = data.get("budget")
    ids = {tx.budget_id} | ({target.pk} if target is not None else set())
    read = [_budget_read(tx), *([target] if target is not None else [])]
    locked, allowed = lock_budgets_reading_rights(ids, actor=_unless_owner(actor, *read))
    if tx.budget_id not in locked:
        raise NotFound()  # deleted with its budget
    if target is not None and target.pk not in locked:
        raise missing_budget_field(target.pk)
    current = Transaction.objects.select_related("created_by", "split").filter(pk=tx.pk).first()
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
        allowed=allowed,
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
    split_household = _split_household(current)
    if split_household is not None and split_household not in households:
        raise _moved_meanwhile()  # its split moved to another household meanwhile
    reshaped = (
        current.amount_minor != data.get("amount_minor", current.amount_minor)
        or final.currency != locked[tx.budget_id].currency
    )
    redivide = reshaped or current.kind != data.get("kind", current.kind) or final.pk != tx.budget_id
    for name, value in data.items():
        setattr(current, name, value)
    current.budget = final
    precondition.check(current)
    save_fields(current, [*data, "updated_at"], precondition=precondition)
    writer = SplitWriter(actor=actor, locked_households=households)
    if split is None or (split is _UNCHANGED and split_household is None):
        if split_household is not None:
            split_delete(tx_id=current.pk)
        current._state.fields_cache["split"] = None
    elif split is not _UNCHANGED:
        writer.write(tx=current, budget=final, spec=split)
    elif split_household is not None and redivide:
        writer.rewrite(tx=current, budget=final, amount_changed=reshaped)
    return current


@transaction.atomic
def transaction_delete(
    *, tx: Transaction, actor: User | None = None, precondition: Precondition = NO_PRECONDITION
) -> None:
    """404 if another request deleted it first. ``actor=None``: the system (the admin). Its
    split goes with it (the household's balances no longer count it); settlements stay."""
    stored = _split_household(tx)
    households = lock_split_households([stored] if stored is not None else [])
    checked = _unless_owner(actor, _budget_read(tx))
    locked, allowed = lock_budgets_reading_rights([tx.budget_id], actor=checked)
    budget = locked.get(tx.budget_id)
    if budget is None:
        raise NotFound()
    current = (
        Transaction.objects.filter(pk=tx.pk)
        .select_related("split")
        .only("budget_id", "version", "split__household_id")
        .first()
    )
    if current is None:
        raise NotFound()
    if current.budget_id != budget.pk:
        raise _moved_meanwhile()
    split_household = _split_household(current)
    if split_household is not None and split_household not in households:
        raise _moved_meanwhile()
    if actor is not None:
        require_all(actor, [budget], "change", message=cannot_edit, allowed=allowed)
    precondition.check(current)
    delete_at_version(current, precondition=precondition)


# No savepoint: bulk/ calls it inside its own atomic block, and an error rolls back both.
@transaction.atomic(savepoint=False)
def transactions_bulk_create(*, actor: User, items: list[dict]) -> list[Transaction | PageRow]:
    """The items' transactions, in their order, as the answer shows them: without a split on
    PostgreSQL, PageRows of what was written (_insert_many); otherwise instances with their
    budget, author and split (or none) cached."""
    splits = [item.pop("split", None) for item in items]
    households = lock_split_households(households_of(splits))
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
    if not any(splits) and connection.vendor == "postgresql":
        return _insert_many(actor=actor, items=items, locked=locked)
    rows = [_row(actor=actor, data={**item, "budget": locked[item["budget"].pk]}) for item in items]
    created = Transaction.objects.bulk_create(rows, batch_size=500)
    writer = SplitWriter(actor=actor, locked_households=households)
    for index, (row, split) in enumerate(zip(created, splits, strict=True)):
        if split:
            writer.write(tx=row, budget=row.budget, spec=split, path=(str(index), "split"))
        else:
            row._state.fields_cache["split"] = None  # known: none (the answer reads no split)
    return created


# The columns bulk/ sends, in the order _insert_many() passes them; created_at and updated_at
# are one parameter for all; id and version are the database's.
_SENT = ("budget_id", "created_by_id", "category_id", "kind", "amount_minor", "date", "payee", "description",
         "notes")  # fmt: skip
_CASTS = ("bigint", "bigint", "bigint", "text", "bigint", "date", "text", "text", "text")


def _insert_many(*, actor: User, items: list[dict], locked: dict[int, Budget]) -> list[PageRow]:
    """PostgreSQL, items without a split: their rows in one INSERT ... SELECT over a JSON
    array of the values, in the items' order, RETURNING the ids and versions the database
    gave them; then each row as a PageRow (what the answer shows: the values sent, the
    budget's currency, the author's email, no split). Preparing each row's values through
    bulk_create, or adapting one array per column, cost more than the database's insert of
    1,000 rows; model instances for the answer cost about 6 ms a 1,000 rows more than
    PageRows, and serialising them 2 ms more."""
    now = timezone.now()
    values = [
        [
            item["budget"].pk,
            actor.pk,
            item["category"].pk if item.get("category") is not None else None,
            item["kind"],
            item["amount_minor"],
            item["date"].isoformat(),
            item.get("payee", ""),
            item.get("description", ""),
            item.get("notes", ""),
        ]
        for item in items
    ]
    columns = ", ".join(_SENT)
    cells = ", ".join(f"(row->>{n})::{cast}" for n, cast in enumerate(_CASTS))
    with connection.cursor() as cursor:
        cursor.execute(
            # The values are parameters; the names are this module's constants. jsonb keeps
            # every string exactly (NUL and lone surrogates never get past validation).
            f"INSERT INTO {Transaction._meta.db_table} ({columns}, created_at, updated_at) "  # noqa: S608
            f"SELECT {cells}, %s, %s FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e (row, place) "
            "ORDER BY place RETURNING id, version",
            [now, now, json.dumps(values)],
        )
        returned = cursor.fetchall()
    email = actor.email
    answer = []
    for (pk, version), sent, item in zip(returned, values, items, strict=True):
        budget, author, category, kind, amount, _, payee, description, notes = sent
        currency = locked[budget].currency
        row = (pk, budget, category, kind, amount, item["date"], payee, description, notes, author)
        answer.append(PageRow(*row, now, now, version, currency, email, None))
    return answer
