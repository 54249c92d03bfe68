"""Writes for budgets and categories. Each locks its budget first (budgets.services.locks),
reads the row again under the lock, and writes only the fields it was sent."""

from datetime import date

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Lower
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from budgets.models import Budget, Category, Period
from budgets.services.locks import lock_budgets, locked_budget, missing_budget_field, require_change
from money.amounts import format_amount, parse_amount
from server.conditional import NO_PRECONDITION, Precondition
from server.integrity import on_violation
from server.versioning import delete_at_version, save_fields


def _category_name_taken() -> ValidationError:
    return ValidationError({"name": ["This budget already has a category with this name."]}, code="unique")


on_violation("budgets_category_name_ci_unique", error=_category_name_taken)


def _money(raw: str, currency: str, *, attr: str, allow_zero: bool = False) -> int:
    try:
        return parse_amount(raw, currency, allow_zero=allow_zero)
    except ValidationError as exc:
        raise ValidationError({attr: exc.detail}) from None


def _check_dates(*, period: str, start_date: date, end_date: date | None) -> None:
    if period == Period.CUSTOM:
        if end_date is None:
            raise ValidationError({"end_date": ["A custom period needs an end date."]}, code="required")
        if end_date <= start_date:
            raise ValidationError(
                {"end_date": ["The end date must be after the start date."]}, code="invalid"
            )
    elif end_date is not None:
        raise ValidationError({"end_date": ["Only custom periods have an end date."]}, code="invalid")


@transaction.atomic
def budget_create(*, owner: User, **fields) -> Budget:
    _check_dates(period=fields["period"], start_date=fields["start_date"], end_date=fields.get("end_date"))
    return Budget.objects.create(owner=owner, **fields)


@transaction.atomic
def budget_update(
    *, budget: Budget, actor: User | None, precondition: Precondition = NO_PRECONDITION, **fields
) -> Budget:
    """Changes only the fields sent, on the row as it is now (another editor's change to
    other fields stays). ``amount`` is the decimal string, read in the budget's currency
    after this change: a currency change alone keeps the amount ("500.00" EUR -> "500" JPY)."""
    budget = locked_budget(budget.pk)
    require_change(actor, budget)
    merged = {f: fields.get(f, getattr(budget, f)) for f in ("period", "start_date", "end_date")}
    if merged["period"] != Period.CUSTOM and "period" in fields and "end_date" not in fields:
        merged["end_date"] = fields["end_date"] = None
    _check_dates(**merged)
    currency = fields.get("currency", budget.currency)
    raw_amount = fields.pop("amount", None)
    if currency != budget.currency:
        if _has_money_rows(budget):
            raise ValidationError(
                {"currency": ["The currency cannot change once the budget has amounts recorded in it."]},
                code="currency_locked",
            )
        if raw_amount is None:
            raw_amount = format_amount(budget.amount_minor, budget.currency)
    if raw_amount is not None:
        fields["amount_minor"] = _money(raw_amount, currency, attr="amount")
    for name, value in fields.items():
        setattr(budget, name, value)
    precondition.check(budget)  # after the body's checks: a bad body is a 400 whatever the tag
    save_fields(budget, [*fields, "updated_at"], precondition=precondition)
    return budget


def _has_money_rows(budget: Budget) -> bool:
    if budget.categories.filter(allocated_minor__isnull=False).exists():
        return True
    transactions = getattr(budget, "transactions", None)
    return bool(transactions is not None and transactions.exists())


@transaction.atomic
def budget_delete(*, budget: Budget, precondition: Precondition = NO_PRECONDITION) -> None:
    """Locked first, so no transaction, category or share can be added to it while its
    rows are collected; 404 if another request deleted it first."""
    budget = locked_budget(budget.pk, for_delete=True)
    precondition.check(budget)
    delete_at_version(budget, precondition=precondition)  # children and shares cascade


@transaction.atomic
def category_create(
    *, budget: Budget, name: str, allocated: str | None = None, actor: User | None = None
) -> Category:
    """``allocated``: a decimal string in the budget's currency, read under its lock."""
    budget_id = budget.pk
    budget = lock_budgets([budget_id]).get(budget_id)
    if budget is None:
        raise missing_budget_field(budget_id)
    require_change(actor, budget, missing=lambda b: missing_budget_field(b.pk))
    _check_category_name(budget=budget, name=name)
    allocated_minor = (
        None if allocated is None else _money(allocated, budget.currency, attr="allocated", allow_zero=True)
    )
    return Category.objects.create(budget=budget, name=name, allocated_minor=allocated_minor)


@transaction.atomic
def category_update(
    *, category: Category, actor: User | None, precondition: Precondition = NO_PRECONDITION, **fields
) -> Category:
    """Changes only the fields sent; ``allocated`` as in category_create. 404 if the
    category was deleted meanwhile."""
    budget = locked_budget(category.budget_id)
    category = Category.objects.filter(pk=category.pk).first()
    if category is None:
        raise NotFound()
    require_change(actor, budget)
    if "name" in fields:
        _check_category_name(budget=budget, name=fields["name"], exclude_pk=category.pk)
    if "allocated" in fields:
        raw = fields.pop("allocated")
        fields["allocated_minor"] = (
            None if raw is None else _money(raw, budget.currency, attr="allocated", allow_zero=True)
        )
    for name, value in fields.items():
        setattr(category, name, value)
    category.budget = budget
    precondition.check(category)
    save_fields(category, list(fields), precondition=precondition)
    return category


@transaction.atomic
def category_delete(
    *, category: Category, actor: User | None = None, precondition: Precondition = NO_PRECONDITION
) -> None:
    """Transactions keep existing, uncategorised (SET_NULL). 404 if it is already gone."""
    budget = locked_budget(category.budget_id)
    category = Category.objects.filter(pk=category.pk).first()
    if category is None:
        raise NotFound()
    require_change(actor, budget)
    precondition.check(category)
    delete_at_version(category, precondition=precondition)


def _check_category_name(*, budget: Budget, name: str, exclude_pk=None) -> None:
    """Folded exactly as the unique constraint folds (the database's lower()), so the
    check and the constraint never disagree on which names are the same."""
    clash = (
        Category.objects.filter(budget=budget).alias(folded=Lower("name")).filter(folded=Lower(Value(name)))
    )
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _category_name_taken()
