from django.db.models import Q

from accounts.models import User
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission
from budgets.shares import VIEW_CODENAME, Share, codename_id, share_keys, shares_for


def budget_shares(
    *, budget: Budget, user_id: int | None = None, household_id: int | None = None
) -> list[Share]:
    """The budget's shares, users first (or the one with that user or household), in three
    queries at most: the same reader as the staff grants API."""
    return shares_for(share_keys(budget=budget, user=user_id, household=household_id))


def budget_viewers_among(*, budget: Budget, user_ids) -> set[int]:
    """Which of ``user_ids`` may view ``budget`` now, in one query: the same rules as
    Budget.objects.visible_to(user, "view") (the owner, a direct share, a share with a
    household group they are in; active accounts only), asked for many users at once."""
    ids = [pk for pk in user_ids if pk is not None]
    if not ids:
        return set()
    perm = codename_id(VIEW_CODENAME)
    direct = BudgetUserObjectPermission.objects.filter(
        content_object=budget, permission_id=perm, user_id__in=ids
    ).values("user_id")
    groups = BudgetGroupObjectPermission.objects.filter(content_object=budget, permission_id=perm).values(
        "group_id"
    )
    via_group = User.groups.through.objects.filter(user_id__in=ids, group_id__in=groups).values("user_id")
    return set(
        User.objects.filter(pk__in=ids, is_active=True)
        .filter(Q(pk=budget.owner_id) | Q(pk__in=direct) | Q(pk__in=via_group))
        .values_list("pk", flat=True)
    )
