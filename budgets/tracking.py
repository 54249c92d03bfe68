"""What the change log records of budgets, categories and shares (history/triggers.py;
installed by migration 0004). A change here needs a migration that installs them again."""

from history.triggers import Field, Tracked

# "view" or "change": the right a guardian row gives (a share at "edit" is both rows).
_PERMISSION = Field(
    "permission",
    sql="(SELECT replace(p.codename, '_budget', '') FROM auth_permission AS p "
    "WHERE p.id = {r}.permission_id)",
)
# Who made it as the shares list says it ("owner" or "admin"), never which site admin.
_SHARE_FIELDS = (_PERMISSION, Field("granted_by", "source"))

BUDGET = Tracked(
    table="budgets_budget",
    object_type="budget",
    fields=(
        Field("name", "name"),
        Field("owner", "owner_id"),
        Field("amount", "amount_minor", currency="currency"),
        Field("currency", "currency"),
        Field("period", "period"),
        Field("start_date", "start_date"),
        Field("end_date", "end_date"),
    ),
    budget="{r}.id",
)

CATEGORY = Tracked(
    table="budgets_category",
    object_type="category",
    fields=(
        Field("budget", "budget_id"),
        Field("name", "name"),
        Field("allocated", "allocated_minor", budget_currency="budget_id"),
    ),
    budget="{r}.budget_id",
)

USER_SHARE = Tracked(
    table="budgets_budgetuserobjectpermission",
    object_type="share",
    fields=(Field("user", "user_id"), *_SHARE_FIELDS),
    budget="{r}.content_object_id",
)

_HOUSEHOLD_OF_GROUP = "(SELECT h.id FROM households_household AS h WHERE h.group_id = {r}.group_id)"
HOUSEHOLD_SHARE = Tracked(
    table="budgets_budgetgroupobjectpermission",
    object_type="share",
    fields=(Field("household", sql=_HOUSEHOLD_OF_GROUP), *_SHARE_FIELDS),
    budget="{r}.content_object_id",
    household=_HOUSEHOLD_OF_GROUP,
)

TRACKED = (BUDGET, CATEGORY, USER_SHARE, HOUSEHOLD_SHARE)
