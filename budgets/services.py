"""Writes for budgets, categories and shares.

Shares are guardian rows on Budget's direct foreign-key permission models:
"view" is view_budget; "edit" is view_budget + change_budget. The owner holds
every right through the owner FK and never gets guardian rows.

Concurrency: every write to a budget, its categories, its transactions or its shares
first locks the budget row (lock_budgets), then reads what it depends on (the row
itself, the caller's right, the currency, a category) and writes only the fields it was
sent. A share that depends on a household in common locks those households first
(households.services.lock_households). docs/architecture.md has the whole lock order.
"""

from datetime import date

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from budgets.models import (
    Budget,
    BudgetGroupObjectPermission,
    BudgetUserObjectPermission,
    Category,
    GrantSource,
    Period,
)
from budgets.money import format_amount, parse_amount
from households.models import Household, Membership
from households.services import lock_households
from permissions.codenames import permission_id
from permissions.scoping import require_all
from server.integrity import on_violation


def _category_name_taken() -> ValidationError:
    return ValidationError({"name": ["This budget already has a category with this name."]}, code="unique")


on_violation("budgets_category_name_ci_unique", error=_category_name_taken)


def lock_budgets(ids, *, for_delete: bool = False) -> dict[int, Budget]:
    """Locks the budget rows, ascending id, until the transaction ends; returns the ones
    that still exist, freshly read. FOR NO KEY UPDATE unless the budget is about to be
    deleted, so rows that merely reference it (a new transaction's foreign key) still go in."""
    rows = Budget.objects.select_for_update(no_key=not for_delete).filter(pk__in=list(ids)).order_by("pk")
    return {budget.pk: budget for budget in rows}


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


def _money(raw: str, currency: str, *, attr: str, allow_zero: bool = False) -> int:
    try:
        return parse_amount(raw, currency, allow_zero=allow_zero)
    except ValidationError as exc:
        raise ValidationError({attr: exc.detail}) from None


VIEW_LEVEL, EDIT_LEVEL = "view", "edit"
CODENAMES_FOR_LEVEL = {VIEW_LEVEL: ("view_budget",), EDIT_LEVEL: ("view_budget", "change_budget")}


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


def _require_change(actor: User | None, budget: Budget, **kwargs) -> None:
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


@transaction.atomic
def budget_update(*, budget: Budget, actor: User | None, **fields) -> Budget:
    """Changes only the fields sent, on the row as it is now (another editor's change to
    other fields stays). ``amount`` is the decimal string, read in the budget's currency
    after this change: a currency change alone keeps the amount ("500.00" EUR -> "500" JPY)."""
    budget = locked_budget(budget.pk)
    _require_change(actor, budget)
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
    budget.save(update_fields=[*fields, "updated_at"])
    return budget


def _has_money_rows(budget: Budget) -> bool:
    if budget.categories.filter(allocated_minor__isnull=False).exists():
        return True
    transactions = getattr(budget, "transactions", None)
    return bool(transactions is not None and transactions.exists())


@transaction.atomic
def budget_delete(*, budget: Budget) -> None:
    """Locked first, so no transaction, category or share can be added to it while its
    rows are collected; 404 if another request deleted it first."""
    locked_budget(budget.pk, for_delete=True).delete()  # children and shares cascade


@transaction.atomic
def category_create(
    *, budget: Budget, name: str, allocated: str | None = None, actor: User | None = None
) -> Category:
    """``allocated``: a decimal string in the budget's currency, read under its lock."""
    budget_id = budget.pk
    budget = lock_budgets([budget_id]).get(budget_id)
    if budget is None:
        raise missing_budget_field(budget_id)
    _require_change(actor, budget, missing=lambda b: missing_budget_field(b.pk))
    _check_category_name(budget=budget, name=name)
    allocated_minor = (
        None if allocated is None else _money(allocated, budget.currency, attr="allocated", allow_zero=True)
    )
    return Category.objects.create(budget=budget, name=name, allocated_minor=allocated_minor)


@transaction.atomic
def category_update(*, category: Category, actor: User | None, **fields) -> Category:
    """Changes only the fields sent; ``allocated`` as in category_create. 404 if the
    category was deleted meanwhile."""
    budget = locked_budget(category.budget_id)
    category = Category.objects.filter(pk=category.pk).first()
    if category is None:
        raise NotFound()
    _require_change(actor, budget)
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
    category.save(update_fields=list(fields))
    return category


@transaction.atomic
def category_delete(*, category: Category, actor: User | None = None) -> None:
    """Transactions keep existing, uncategorised (SET_NULL). 404 if it is already gone."""
    budget = locked_budget(category.budget_id)
    category = Category.objects.filter(pk=category.pk).first()
    if category is None:
        raise NotFound()
    _require_change(actor, budget)
    category.delete()


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


# Shares -------------------------------------------------------------------------------


def _share_rows(model, *, budget: Budget, level: str, source: str, granted_by: User | None, **grantee):
    return [
        model(
            content_object=budget,
            permission_id=permission_id("budgets", codename),
            source=source,
            granted_by=granted_by,
            **grantee,
        )
        for codename in CODENAMES_FOR_LEVEL[level]
    ]


def _set_level(model, *, budget: Budget, level: str, source: str, granted_by: User | None, **grantee) -> bool:
    """Makes the grantee's rows on ``budget`` exactly ``level``; returns True if it was new.
    The budget's lock serialises two writers giving the same grantee access at once (they
    replace each other instead of colliding on guardian's unique index)."""
    locked_budget(budget.pk)
    existing = model.objects.select_for_update().filter(content_object=budget, **grantee)
    created = not existing.exists()
    existing.delete()
    model.objects.bulk_create(
        _share_rows(model, budget=budget, level=level, source=source, granted_by=granted_by, **grantee)
    )
    return created


def households_in_common(a_id: int, b_id: int):
    """Memberships of user ``b_id`` in households user ``a_id`` is also in.

    ``user__pk`` (not ``user=`` or ``user_id=``) so the lookup is the primary key's
    integer lookup: an id from the URL too large for the column matches nothing
    instead of overflowing the SQLite driver."""
    mine = Membership.objects.filter(user_id=a_id).values("household_id")
    return Membership.objects.filter(user__pk=b_id, household_id__in=mine)


def _no_common_household() -> ValidationError:
    return ValidationError(
        {"user": ["You can share only with someone who is in a household with you."]},
        code="no_common_household",
    )


@transaction.atomic
def share_with_user(*, budget: Budget, grantee_id: int, level: str, actor: User) -> bool:
    """Owner shares with someone who currently shares a household with them. The
    households in common stay locked until the share is written, so neither of the two
    can leave (or be removed from) them in between."""
    if grantee_id == budget.owner_id:
        raise _no_common_household()
    common = households_in_common(budget.owner_id, grantee_id).values_list("household_id", flat=True)
    locked = lock_households(common)
    if (
        not locked
        or not households_in_common(budget.owner_id, grantee_id).filter(household_id__in=locked).exists()
    ):
        raise _no_common_household()
    return _set_level(
        BudgetUserObjectPermission,
        budget=budget,
        level=level,
        source=GrantSource.OWNER,
        granted_by=actor,
        user_id=grantee_id,
    )


@transaction.atomic
def share_with_household(*, budget: Budget, household_id: int, level: str, actor: User) -> bool:
    """The owner shares with a household they belong to, locked until the share is written."""
    lock_households([household_id])
    household = Household.objects.filter(pk=household_id, memberships__user_id=budget.owner_id).first()
    if household is None:
        raise ValidationError(
            {"household": ["You can share only with a household you belong to."]}, code="not_a_member"
        )
    return _set_level(
        BudgetGroupObjectPermission,
        budget=budget,
        level=level,
        source=GrantSource.OWNER,
        granted_by=actor,
        group_id=household.group_id,
    )


@transaction.atomic
def share_revoke_user(*, budget: Budget, grantee_id: int) -> None:
    locked_budget(budget.pk)
    # user__pk: the primary key's integer lookup, so an out-of-range id is just "no share".
    shares = BudgetUserObjectPermission.objects.filter(content_object=budget, user__pk=grantee_id)
    deleted, _ = shares.delete()
    if not deleted:
        raise NotFound()


@transaction.atomic
def share_revoke_household(*, budget: Budget, household_id: int) -> None:
    locked_budget(budget.pk)
    groups = Group.objects.filter(household__pk=household_id).values("pk")
    deleted, _ = BudgetGroupObjectPermission.objects.filter(content_object=budget, group__in=groups).delete()
    if not deleted:
        raise NotFound()


def shares_revoke_on_departure(*, household: Household, user: User) -> None:
    """Access never outlives membership. Runs inside the membership service's transaction
    after ``user`` left ``household``:

    - owner-made user shares between ``user`` and the household's remaining members go,
      unless the two still have another household in common;
    - ``user``'s own budgets stop being shared with this household.

    Admin grants do not depend on a household and stay.
    """
    remaining = Membership.objects.filter(household=household).exclude(user=user).values("user_id")
    still_common = Membership.objects.filter(
        household_id__in=Membership.objects.filter(user=user)
        .exclude(household=household)
        .values("household_id")
    ).values("user_id")
    parted = Q(user_id__in=remaining) & ~Q(user_id__in=still_common)
    owner_made = BudgetUserObjectPermission.objects.filter(source=GrantSource.OWNER)
    owner_made.filter(content_object__owner=user).filter(parted).delete()
    partner_budgets = Budget.objects.filter(owner_id__in=remaining).exclude(owner_id__in=still_common)
    owner_made.filter(user=user, content_object__in=partner_budgets.values("pk")).delete()
    BudgetGroupObjectPermission.objects.filter(
        group_id=household.group_id, content_object__owner=user, source=GrantSource.OWNER
    ).delete()


# Site admin grants ----------------------------------------------------------------------
# Staff holding budgets.manage_grants grant access to any budget, through the staff grants
# API (budgets/grants.py) or the admin's object-permissions page (budgets/admin.py). A grant
# is the same guardian rows as an owner share, with source="admin", so the grantee's access
# is decided by the same visible_to(). It needs no household in common: leaving a household
# leaves it in place (shares_revoke_on_departure removes owner-made rows only), and the
# budget's owner can still revoke it through shares/.

GRANTEE_USER, GRANTEE_HOUSEHOLD = "user", "household"


@transaction.atomic
def grant_to_user(*, budget: Budget, grantee: User, level: str, actor: User) -> bool:
    """A site admin gives ``grantee`` ``level`` ("view" | "edit") on ``budget``, replacing
    any share they had on it, owner-made or admin-made. Returns True if they had none."""
    if grantee.pk == budget.owner_id:
        raise ValidationError(
            {"user": ["This user owns the budget and already holds every right on it."]},
            code="budget_owner",
        )
    return _set_level(
        BudgetUserObjectPermission,
        budget=budget,
        level=level,
        source=GrantSource.ADMIN,
        granted_by=actor,
        user_id=grantee.pk,
    )


@transaction.atomic
def grant_to_household(*, budget: Budget, household: Household, level: str, actor: User) -> bool:
    """A site admin gives every member of ``household`` ``level`` on ``budget`` (through the
    household's group), replacing any share the household had on it. Returns True if new."""
    if not lock_households([household.pk]):
        raise NotFound()
    return _set_level(
        BudgetGroupObjectPermission,
        budget=budget,
        level=level,
        source=GrantSource.ADMIN,
        granted_by=actor,
        group_id=household.group_id,
    )


@transaction.atomic
def grant_revoke(*, grantee_type: str, row_id: int) -> None:
    """Removes the grant whose lowest guardian row id is ``row_id``: every row of that
    (budget, grantee), whoever made it. NotFound if no grant has that id."""
    if grantee_type == GRANTEE_USER:
        model, grantee_field = BudgetUserObjectPermission, "user_id"
        named = model.objects.filter(pk=row_id)
    else:
        model, grantee_field = BudgetGroupObjectPermission, "group_id"
        named = model.objects.filter(pk=row_id, group__household__isnull=False)
    key = named.values("content_object_id", grantee_field).first()
    if key is None:
        raise NotFound()
    locked_budget(key["content_object_id"])
    row_ids = list(model.objects.select_for_update().filter(**key).values_list("pk", flat=True))
    if min(row_ids, default=None) != row_id:
        raise NotFound()  # the id of a grant's second row, or rows replaced meanwhile
    model.objects.filter(pk__in=row_ids).delete()
