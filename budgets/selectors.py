from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission


def _collapse(rows, grantee_of):
    """guardian rows -> one share per grantee: "edit" when change_budget is among them."""
    shares: dict = {}
    for row in rows:
        grantee = grantee_of(row)
        share = shares.setdefault(
            grantee.pk,
            {
                "grantee": grantee,
                "permission": "view",
                "granted_by": row.source,
                "granted_at": row.granted_at,
            },
        )
        if row.permission.codename == "change_budget":
            share["permission"] = "edit"
        share["granted_at"] = max(share["granted_at"], row.granted_at)
    return list(shares.values())


def budget_shares(*, budget: Budget) -> list[dict]:
    """Every share of one budget, users first, in two queries."""
    user_rows = (
        BudgetUserObjectPermission.objects.filter(content_object=budget)
        .select_related("user", "permission")
        .order_by("user_id", "permission_id")
    )
    group_rows = (
        BudgetGroupObjectPermission.objects.filter(content_object=budget, group__household__isnull=False)
        .select_related("group__household", "permission")
        .order_by("group_id", "permission_id")
    )
    users = [{"grantee_type": "user", **s} for s in _collapse(user_rows, lambda r: r.user)]
    households = [
        {"grantee_type": "household", **s} for s in _collapse(group_rows, lambda r: r.group.household)
    ]
    return users + households
