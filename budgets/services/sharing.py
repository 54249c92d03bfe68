"""Writes for shares (by a budget's owner) and grants (by a site admin): guardian rows in the
vocabulary of budgets.shares. A share that depends on a household in common locks those
households first (households.services.lock_households), then the budget."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission, GrantSource
from budgets.services.locks import lock_budgets, locked_budget
from budgets.shares import CODENAMES_FOR_LEVEL, GRANTEE_HOUSEHOLD, GRANTEE_USER, codename_id, share_etag
from households.models import Household, Membership
from households.services import lock_households
from server.conditional import NO_PRECONDITION, Precondition


def _share_rows(model, *, budget: Budget, level: str, source: str, granted_by: User | None, **grantee):
    return [
        model(
            content_object=budget,
            permission_id=codename_id(codename),
            source=source,
            granted_by=granted_by,
            **grantee,
        )
        for codename in CODENAMES_FOR_LEVEL[level]
    ]


def _set_level(
    model,
    *,
    budget: Budget,
    level: str,
    source: str,
    granted_by: User | None,
    share: tuple[str, int],
    precondition: Precondition = NO_PRECONDITION,
    **grantee,
) -> bool:
    """Makes the grantee's rows on ``budget`` exactly ``level``; returns True if it was new.
    The budget's lock serialises two writers giving the same grantee access at once (they
    replace each other instead of colliding on guardian's unique index), and the share's
    If-Match (``share``: its grantee type and id) is compared under it."""
    locked_budget(budget.pk)
    existing = model.objects.select_for_update().filter(content_object=budget, **grantee)
    version = min(existing.values_list("pk", flat=True), default=None)
    precondition.check_tag(share_etag(*share, version))
    created = version is None
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
def share_with_user(
    *, budget: Budget, user_id: int, level: str, actor: User, precondition: Precondition = NO_PRECONDITION
) -> bool:
    """Owner shares with someone who currently shares a household with them. The
    households in common stay locked until the share is written, so neither of the two
    can leave (or be removed from) them in between."""
    if user_id == budget.owner_id:
        raise _no_common_household()
    common = households_in_common(budget.owner_id, user_id).values_list("household_id", flat=True)
    locked = lock_households(common)
    if (
        not locked
        or not households_in_common(budget.owner_id, user_id).filter(household_id__in=locked).exists()
    ):
        raise _no_common_household()
    return _set_level(
        BudgetUserObjectPermission,
        budget=budget,
        level=level,
        source=GrantSource.OWNER,
        granted_by=actor,
        share=(GRANTEE_USER, user_id),
        precondition=precondition,
        user_id=user_id,
    )


@transaction.atomic
def share_with_household(
    *,
    budget: Budget,
    household_id: int,
    level: str,
    actor: User,
    precondition: Precondition = NO_PRECONDITION,
) -> bool:
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
        share=(GRANTEE_HOUSEHOLD, household.pk),
        precondition=precondition,
        group_id=household.group_id,
    )


def _revoke(rows, *, budget: Budget, share: tuple[str, int], precondition: Precondition) -> None:
    """Deletes a share's rows, under the budget's lock, if its version is the one If-Match
    names; 404 if there is no such share."""
    locked_budget(budget.pk)
    version = min(rows.select_for_update().values_list("pk", flat=True), default=None)
    if version is None:
        raise NotFound()
    precondition.check_tag(share_etag(*share, version))
    rows.delete()


@transaction.atomic
def share_revoke_user(
    *, budget: Budget, grantee_id: int, precondition: Precondition = NO_PRECONDITION
) -> None:
    # user__pk: the primary key's integer lookup, so an out-of-range id is just "no share".
    rows = BudgetUserObjectPermission.objects.filter(content_object=budget, user__pk=grantee_id)
    _revoke(rows, budget=budget, share=(GRANTEE_USER, grantee_id), precondition=precondition)


@transaction.atomic
def share_revoke_household(
    *, budget: Budget, household_id: int, precondition: Precondition = NO_PRECONDITION
) -> None:
    groups = Group.objects.filter(household__pk=household_id).values("pk")
    rows = BudgetGroupObjectPermission.objects.filter(content_object=budget, group__in=groups)
    _revoke(rows, budget=budget, share=(GRANTEE_HOUSEHOLD, household_id), precondition=precondition)


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
    partner_budgets = Budget.objects.filter(owner_id__in=remaining).exclude(owner_id__in=still_common)
    revoked = [
        owner_made.filter(content_object__owner=user).filter(parted),
        owner_made.filter(user=user, content_object__in=partner_budgets.values("pk")),
        BudgetGroupObjectPermission.objects.filter(
            group_id=household.group_id, content_object__owner=user, source=GrantSource.OWNER
        ),
    ]
    # Each revoked row bumps its budget's version (a trigger): the budgets are locked first,
    # in the lock order (ascending id), so that write never waits on a transaction write.
    budget_ids = set()
    for rows in revoked:
        budget_ids.update(rows.values_list("content_object_id", flat=True))
    lock_budgets(budget_ids)
    for rows in revoked:
        rows.delete()


# Site admin grants ----------------------------------------------------------------------
# Staff holding budgets.manage_grants grant access to any budget, through the staff grants
# API (budgets/grants/) or the admin's object-permissions page (budgets/admin.py). A grant
# is the same guardian rows as an owner share, with source="admin", so the grantee's access
# is decided by the same visible_to(). It needs no household in common: leaving a household
# leaves it in place (shares_revoke_on_departure removes owner-made rows only), and the
# budget's owner can still revoke it through shares/.


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
        share=(GRANTEE_USER, grantee.pk),
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
        share=(GRANTEE_HOUSEHOLD, household.pk),
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
