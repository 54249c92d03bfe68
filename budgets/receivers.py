"""budgets' answers to what the apps below it announce (connected in BudgetsConfig.ready)."""

from budgets import services


def revoke_shares_when_membership_ends(sender, *, household, user, **kwargs) -> None:
    """Access never outlives membership: the owner-made shares the membership carried go, in
    the same transaction (services.shares_revoke_on_departure)."""
    services.shares_revoke_on_departure(household=household, user=user)
