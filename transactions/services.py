"""Writes for transactions: single, bulk and CSV import. Multi-row writes are all or nothing."""

from django.db import transaction

from accounts.models import User
from budgets.models import Budget, Category
from transactions.models import Transaction

FIELDS = ("budget", "category", "kind", "amount_minor", "date", "payee", "description", "notes")


def _row(*, actor: User, data: dict) -> Transaction:
    return Transaction(created_by=actor, **{f: data[f] for f in FIELDS if f in data})


@transaction.atomic
def transaction_create(*, actor: User, **data) -> Transaction:
    row = _row(actor=actor, data=data)
    row.save()
    return row


@transaction.atomic
def transaction_update(*, tx: Transaction, **data) -> Transaction:
    for name, value in data.items():
        setattr(tx, name, value)
    tx.save()
    return tx


@transaction.atomic
def transaction_delete(*, tx: Transaction) -> None:
    tx.delete()


@transaction.atomic
def transactions_bulk_create(*, actor: User, items: list[dict]) -> list[Transaction]:
    rows = [_row(actor=actor, data=item) for item in items]
    return Transaction.objects.bulk_create(rows, batch_size=500)


@transaction.atomic
def transactions_import(
    *, actor: User, budget: Budget, rows: list[dict], new_category_names: list[str]
) -> tuple[list[Transaction], list[Category]]:
    """Creates the missing categories and every row, or nothing."""
    created_categories = [Category.objects.create(budget=budget, name=name) for name in new_category_names]
    by_name = {c.name.lower(): c for c in budget.categories.all()}
    objects = []
    for row in rows:
        data = dict(row)
        name = data.pop("category_name", None)
        data["category"] = by_name[name.lower()] if name else None
        objects.append(_row(actor=actor, data={**data, "budget": budget}))
    return Transaction.objects.bulk_create(objects, batch_size=1000), created_categories
