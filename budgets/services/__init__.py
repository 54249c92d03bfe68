"""Writes for budgets, categories and shares (HackSoft's services), one module each:

- ``locks``: the budget lock every write takes first, and the right re-checked under it;
- ``budgets``: budgets and categories;
- ``sharing``: owner shares, admin grants, and the revocation when a membership ends.

Callers import the package: ``from budgets import services; services.budget_update(...)``.
"""

from budgets.services.budgets import (
    budget_create,
    budget_delete,
    budget_update,
    category_create,
    category_delete,
    category_update,
)
from budgets.services.locks import (
    lock_budgets,
    lock_budgets_reading_rights,
    locked_budget,
    missing_budget_field,
    require_change,
)
from budgets.services.sharing import (
    grant_revoke,
    grant_to_household,
    grant_to_user,
    households_in_common,
    share_revoke_household,
    share_revoke_user,
    share_with_household,
    share_with_user,
    shares_revoke_on_departure,
)

__all__ = [
    "budget_create",
    "budget_delete",
    "budget_update",
    "category_create",
    "category_delete",
    "category_update",
    "grant_revoke",
    "grant_to_household",
    "grant_to_user",
    "households_in_common",
    "lock_budgets",
    "lock_budgets_reading_rights",
    "locked_budget",
    "missing_budget_field",
    "require_change",
    "share_revoke_household",
    "share_revoke_user",
    "share_with_household",
    "share_with_user",
    "shares_revoke_on_departure",
]
