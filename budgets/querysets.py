from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL

from budgets.shares import CHANGE_CODENAME, CODENAME_FOR_ACTION, codename_id
from permissions.scoping import is_active_user as _active
from server.compiled import compiled_sql

VIEW, CHANGE, DELETE, SHARE = "view", "change", "delete", "share"
OWNER_ONLY_ACTIONS = {DELETE, SHARE}


def _visible_ids_union(user_id: int, perm: int):
    """One UNION of three indexed lookups: budgets the user owns, budgets shared with the
    user directly, budgets shared with a household group the user is in. An OR of the
    three in one WHERE makes PostgreSQL scan every budget; the UNION touches only
    index entries of this user."""
    from accounts.models import User
    from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission

    owned = Budget.objects.filter(owner_id=user_id).order_by().values("pk")
    by_user = BudgetUserObjectPermission.objects.filter(user_id=user_id, permission_id=perm).values(
        "content_object_id"
    )
    my_groups = User.groups.through.objects.filter(user_id=user_id).values("group_id")
    by_group = BudgetGroupObjectPermission.objects.filter(group__in=my_groups, permission_id=perm).values(
        "content_object_id"
    )
    return owned.union(by_user.order_by(), by_group.order_by())


def _visible_ids_subquery(user, codename: str) -> RawSQL:
    """_visible_ids_union() as SQL, compiled once per process (server/compiled.py): every
    request scopes one to three queries with it, and building the union through the ORM
    costs more (1 ms) than PostgreSQL takes to run it. The SQL depends only on the
    permission; the user's id is its one value."""
    perm = codename_id(codename)
    sql, params = compiled_sql(
        ("budget-scope", perm), lambda user_id: _visible_ids_union(user_id, perm), user.pk
    )
    return RawSQL(sql, params)  # noqa: S611 - the ORM's own compiled SQL; values are parameters


class BudgetQuerySet(models.QuerySet):
    # visible_to reads nothing of the caller but the id (and that the caller is active), so
    # its SQL can be compiled once with a stand-in caller (permissions.scoping.scoped_row).
    scope_reads_caller_id_only = True

    def visible_to(self, user, action: str = VIEW):
        """Budgets ``user`` may ``action``: the owner always; sharees per their
        user and household shares (the union); nobody else, superusers included."""
        if action not in CODENAME_FOR_ACTION and action not in OWNER_ONLY_ACTIONS:
            raise ValueError(f"Unknown budget action {action!r}")
        if not _active(user):
            return self.none()
        if action in OWNER_ONLY_ACTIONS:
            return self.filter(owner=user)
        return self.filter(pk__in=_visible_ids_subquery(user, CODENAME_FOR_ACTION[action]))

    def visible_pks(self, user, action: str = VIEW):
        """visible_to(user, action) as a subquery of ids, for child tables to filter on
        (``budget_id__in=...``) without touching the budgets table."""
        if action not in CODENAME_FOR_ACTION and action not in OWNER_ONLY_ACTIONS:
            raise ValueError(f"Unknown budget action {action!r}")
        if not _active(user):
            return self.none().values("pk")
        if action in OWNER_ONLY_ACTIONS:
            return self.filter(owner=user).order_by().values("pk")
        return _visible_ids_subquery(user, CODENAME_FOR_ACTION[action])

    def visible_ids(self, user, action: str = VIEW) -> list[int]:
        """The ids of visible_to(user, action), resolved now: a small indexed query
        that lets child tables filter on an exact id list."""
        return list(self.visible_to(user, action).order_by().values_list("pk", flat=True))

    def with_rights(self, user):
        """Annotates ``can_change`` for the caller without a query per row."""
        if not _active(user):
            return self.annotate(can_change=models.Value(False))
        from budgets.models import BudgetGroupObjectPermission, BudgetUserObjectPermission

        perm = codename_id(CHANGE_CODENAME)
        by_user = BudgetUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"), user=user, permission_id=perm
        )
        by_group = BudgetGroupObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            permission_id=perm,
            group__in=user.groups.through.objects.filter(user_id=user.pk).values("group_id"),
        )
        return self.annotate(can_change=Q(owner=user) | Exists(by_user) | Exists(by_group))


class CategoryQuerySet(models.QuerySet):
    # visible_to reads nothing of the caller but the id (and that the caller is active), so
    # its SQL can be compiled once with a stand-in caller (permissions.scoping.scoped_row).
    scope_reads_caller_id_only = True

    def visible_to(self, user, action: str = VIEW):
        """Categories follow their budget: view to read, change to write."""
        from budgets.models import Budget

        budget_action = VIEW if action == VIEW else CHANGE
        return self.filter(budget_id__in=Budget.objects.visible_pks(user, budget_action))
