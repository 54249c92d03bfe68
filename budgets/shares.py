"""The sharing vocabulary, in one place: share levels, grantee kinds, the guardian codenames
behind them, and the one reader that turns guardian rows into shares.

A share (made by the budget's owner) and a grant (made by a site admin) are the same thing
to everyone else: guardian rows on Budget's direct foreign-key permission models, one per
codename, for one (budget, grantee). "view" is view_budget; "edit" is view_budget and
change_budget. The owner holds every right through the owner FK and never has rows.

Writes are in budgets/services.py; who sees what, in budgets/querysets.py; both speak
through the names below.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, F, IntegerField, Max, Min, QuerySet, Value, When
from rest_framework.exceptions import NotFound

from permissions.codenames import permission_id

VIEW_LEVEL, EDIT_LEVEL = "view", "edit"
LEVELS = (VIEW_LEVEL, EDIT_LEVEL)
GRANTEE_USER, GRANTEE_HOUSEHOLD = "user", "household"
GRANTEE_TYPES = (GRANTEE_USER, GRANTEE_HOUSEHOLD)

VIEW_CODENAME, CHANGE_CODENAME = "view_budget", "change_budget"
# The two rights a share is made of, and what each level holds.
SHARE_CODENAMES = (VIEW_CODENAME, CHANGE_CODENAME)
CODENAMES_FOR_LEVEL = {VIEW_LEVEL: (VIEW_CODENAME,), EDIT_LEVEL: (VIEW_CODENAME, CHANGE_CODENAME)}
# The tenant action a sharee asks visible_to() for -> the codename it takes.
CODENAME_FOR_ACTION = {"view": VIEW_CODENAME, "change": CHANGE_CODENAME}


def level_of(codenames) -> str | None:
    """The level a set of codenames makes: change includes view."""
    codenames = set(codenames)
    if CHANGE_CODENAME in codenames:
        return EDIT_LEVEL
    return VIEW_LEVEL if VIEW_CODENAME in codenames else None


def codename_id(codename: str) -> int:
    return permission_id("budgets", codename)


# The one reader ---------------------------------------------------------------------------
# (budgets.models imports this module's names through querysets.py, so the models are
# imported inside the functions.)

# A budget's user shares sort before its household shares.
_KIND = {GRANTEE_USER: 0, GRANTEE_HOUSEHOLD: 1}
_PREFIX = {GRANTEE_USER: "u", GRANTEE_HOUSEHOLD: "g"}
_SHARE_ID = re.compile(r"^([ug])([1-9][0-9]{0,17})$")


@dataclass(frozen=True)
class Share:
    """One (budget, grantee) and what its rows add up to."""

    id: str  # "u<lowest row id>" or "g<lowest row id>"
    budget: object
    grantee_type: str
    grantee: object  # a User or a Household
    permission: str  # VIEW_LEVEL or EDIT_LEVEL
    granted_by: str  # GrantSource: who made it
    granted_by_user: object | None
    granted_at: datetime

    @property
    def version(self) -> int:
        """Its lowest row's id: every write of a share replaces its rows (budgets/services),
        so this changes, upward, each time it is written."""
        return int(self.id[1:])

    @property
    def etag(self) -> str:
        return share_etag(self.grantee_type, self.grantee.pk, self.version)


def share_etag(grantee_type: str, grantee_id: int, version: int | None) -> str | None:
    """``"user12-4711"``: the grantee and the share's version; None when there is no share."""
    return None if version is None else f'"{grantee_type}{grantee_id}-{version}"'


def _keys(rows: QuerySet, grantee_type: str, grantee: str) -> QuerySet:
    """One row per (budget, grantee): its lowest row id, whether change_budget is among
    its rows, and when it was last granted."""
    return (
        rows.order_by()
        .values("content_object_id", grantee_id=F(grantee))
        .annotate(
            kind=Value(_KIND[grantee_type], output_field=IntegerField()),
            row_id=Min("pk"),
            edit=Max(Case(When(permission_id=codename_id(CHANGE_CODENAME), then=Value(1)), default=Value(0))),
            last_granted_at=Max("granted_at"),
        )
        .values_list("content_object_id", "kind", "grantee_id", "row_id", "edit", "last_granted_at")
    )


def share_keys(*, budget=None, user=None, household=None) -> QuerySet:
    """Every share as (budget id, kind, grantee id, row id, edit, granted at), ordered by
    budget, users first, then grantee: one UNION query, so counting and paging happen in
    the database. The filters narrow together (AND); ``user`` and ``household`` may be an
    object or an id."""
    from budgets.models import BudgetGroupObjectPermission, BudgetUserObjectPermission

    users = BudgetUserObjectPermission.objects.all()
    groups = BudgetGroupObjectPermission.objects.filter(group__household__isnull=False)
    if budget is not None:
        users, groups = users.filter(content_object=budget), groups.filter(content_object=budget)
    if user is not None:
        users, groups = users.filter(user__pk=getattr(user, "pk", user)), groups.none()
    if household is not None:
        users, groups = users.none(), groups.filter(group__household__pk=getattr(household, "pk", household))
    return (
        _keys(users, GRANTEE_USER, "user_id")
        .union(_keys(groups, GRANTEE_HOUSEHOLD, "group__household__id"), all=True)
        .order_by("content_object_id", "kind", "grantee_id")
    )


def shares_for(keys) -> list[Share]:
    """The shares behind ``keys`` (from share_keys), in their order: two queries at most,
    whatever their number. A share revoked between the two reads is left out."""
    from budgets.models import BudgetGroupObjectPermission, BudgetUserObjectPermission

    keys = list(keys)
    wanted = {grantee_type: [k[3] for k in keys if k[1] == n] for grantee_type, n in _KIND.items()}
    rows = {GRANTEE_USER: {}, GRANTEE_HOUSEHOLD: {}}
    if wanted[GRANTEE_USER]:
        rows[GRANTEE_USER] = {
            row.pk: row
            for row in BudgetUserObjectPermission.objects.filter(pk__in=wanted[GRANTEE_USER]).select_related(
                "content_object", "user", "granted_by"
            )
        }
    if wanted[GRANTEE_HOUSEHOLD]:
        rows[GRANTEE_HOUSEHOLD] = {
            row.pk: row
            for row in BudgetGroupObjectPermission.objects.filter(
                pk__in=wanted[GRANTEE_HOUSEHOLD]
            ).select_related("content_object", "group__household", "granted_by")
        }
    shares = []
    for _budget_id, number, _grantee_id, row_id, edit, granted_at in keys:
        grantee_type = GRANTEE_USER if number == _KIND[GRANTEE_USER] else GRANTEE_HOUSEHOLD
        row = rows[grantee_type].get(row_id)  # the share's lowest row speaks for its source
        if row is None:
            continue
        shares.append(
            Share(
                id=f"{_PREFIX[grantee_type]}{row_id}",
                budget=row.content_object,
                grantee_type=grantee_type,
                grantee=row.user if grantee_type == GRANTEE_USER else row.group.household,
                permission=EDIT_LEVEL if edit else VIEW_LEVEL,
                granted_by=row.source,
                granted_by_user=row.granted_by,
                granted_at=granted_at,
            )
        )
    return shares


def parse_share_id(value: str) -> tuple[str, int]:
    """ "u12" -> ("user", 12); anything else is a 404."""
    match = _SHARE_ID.match(value or "")
    if match is None:
        raise NotFound()
    return (GRANTEE_USER if match[1] == "u" else GRANTEE_HOUSEHOLD), int(match[2])
