"""The scoping subqueries reach the permission tables through an index, on both databases.

With a few thousand grants and fresh statistics, the plan of "which budgets may this
user see" must not read either permission table from end to end: PostgreSQL shows no
sequential scan of them, SQLite searches each through one of its indexes.
"""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from accounts.models import User
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission
from permissions.codenames import permission_id

pytestmark = pytest.mark.django_db

PERMISSION_TABLES = (BudgetUserObjectPermission._meta.db_table, BudgetGroupObjectPermission._meta.db_table)
USERS, BUDGETS = 1_200, 2_400
GROUPS = USERS // 3


@pytest.fixture
def crowd():
    """A realistic spread: 1,200 users in households of three (a quarter of them in a
    second one), two budgets each; every budget shared with two people (one to edit)
    and with its owner's household (every other one to edit). About 7,200 user and
    3,600 group permission rows."""
    User.objects.bulk_create(User(email=f"crowd{i}@example.com") for i in range(USERS))
    users = list(User.objects.order_by("pk").values_list("pk", flat=True))
    Group.objects.bulk_create(Group(name=f"crowd:{i}") for i in range(GROUPS))
    groups = list(Group.objects.order_by("pk").values_list("pk", flat=True))
    home = {user: groups[i // 3] for i, user in enumerate(users)}
    through = User.groups.through
    through.objects.bulk_create(
        [through(user_id=user, group_id=home[user]) for user in users]
        + [
            through(user_id=user, group_id=groups[(i * 7 + 1) % GROUPS])
            for i, user in enumerate(users)
            if i % 4 == 0 and groups[(i * 7 + 1) % GROUPS] != home[user]
        ]
    )
    Budget.objects.bulk_create(
        Budget(
            owner_id=users[i % USERS],
            name=f"B{i}",
            amount_minor=100,
            currency="EUR",
            start_date=datetime.date(2026, 1, 1),
        )
        for i in range(BUDGETS)
    )
    budgets = list(Budget.objects.order_by("pk").values_list("owner_id", "pk"))
    view, change = permission_id("budgets", "view_budget"), permission_id("budgets", "change_budget")
    BudgetUserObjectPermission.objects.bulk_create(
        BudgetUserObjectPermission(
            content_object_id=budget, user_id=users[(i + k) % USERS], permission_id=perm, source="owner"
        )
        for i, (_, budget) in enumerate(budgets)
        for k in (1, 2)
        for perm in ((view, change) if k == 1 else (view,))
    )
    BudgetGroupObjectPermission.objects.bulk_create(
        BudgetGroupObjectPermission(
            content_object_id=budget, group_id=home[owner], permission_id=perm, source="owner"
        )
        for i, (owner, budget) in enumerate(budgets)
        for perm in ((view, change) if i % 2 else (view,))
    )
    assert BudgetUserObjectPermission.objects.count() > 7_000
    assert BudgetGroupObjectPermission.objects.count() > 3_500
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return User.objects.get(pk=users[USERS // 2])


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name for name, info in constraints.items() if info["index"] or info["unique"]}


def assert_permission_tables_use_indexes(plan: str) -> None:
    if connection.vendor == "postgresql":
        for table in PERMISSION_TABLES:
            assert re.search(rf"\bon {table}\b", plan), plan  # the subquery is in the plan at all
            assert f"Seq Scan on {table}" not in plan, plan
    else:
        lines = plan.splitlines()
        for table in PERMISSION_TABLES:
            used = {
                match.group(2)
                for line in lines
                if (match := re.search(r"USING (COVERING )?INDEX (\w+)", line))
            }
            assert used & _indexes(table), plan
            assert not [line for line in lines if re.search(rf"\bSCAN {table}\b", line)], plan


@pytest.mark.parametrize("action", ["view", "change"])
def test_visible_budget_ids_search_the_permission_tables_by_index(crowd, action):
    plan = Budget.objects.visible_to(crowd, action).values("pk").explain()
    assert_permission_tables_use_indexes(plan)


def test_budget_list_query_with_rights_searches_the_permission_tables_by_index(crowd):
    queryset = Budget.objects.visible_to(crowd).select_related("owner").with_rights(crowd)[:50]
    assert len(queryset) > 0
    assert_permission_tables_use_indexes(queryset.explain())
