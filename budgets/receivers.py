"""budgets' answers to what the apps below it announce (connected in BudgetsConfig.ready)."""

from budgets import services
from history.context import acting


def revoke_shares_when_membership_ends(sender, *, household, user, **kwargs) -> None:
    """Access never outlives membership: the owner-made shares the membership carried go, in
    the same transaction (services.shares_revoke_on_departure). The change log records them
    as the system's doing, on behalf of whoever ended the membership."""
    with acting(source="system"):
        services.shares_revoke_on_departure(household=household, user=user)
