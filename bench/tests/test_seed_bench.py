import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from accounts.models import User
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission, Category
from households.models import Household, Membership
from transactions.models import Transaction

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_bench", "--scale", "small", "--quiet", stdout=out, **options)
    return out.getvalue()


def fingerprint() -> tuple:
    """The data set by natural keys (ids differ between databases)."""
    return (
        User.objects.count(),
        sorted(Membership.objects.values_list("household__name", "user__email", "role")),
        sorted(Budget.objects.values_list("name", "owner__email", "amount_minor")),
        sorted(BudgetUserObjectPermission.objects.values_list("content_object__name", "user__email")),
        sorted(
            BudgetGroupObjectPermission.objects.values_list("content_object__name", "group__household__name")
        ),
        Transaction.objects.aggregate(n=Count("id"), total=Sum("amount_minor")),
        sorted(Transaction.objects.values_list("budget__name", "date", "amount_minor"))[:50],
    )


def wipe():
    for model in (Transaction, Category, BudgetUserObjectPermission, BudgetGroupObjectPermission, Budget):
        model.objects.all().delete()
    for model in (Membership, Household, Group, User):
        model.objects.all().delete()


def test_small_scale_has_the_promised_shape(client_for):
    output = seed()
    assert "200 users, 60 households, 400 budgets, 5,000 transactions" in output
    assert Transaction.objects.count() == 5_000
    sizes = Household.objects.annotate(n=Count("memberships")).values_list("n", flat=True)
    assert min(sizes) >= 2 and max(sizes) <= 5
    # Every household's group holds exactly its members.
    for household in Household.objects.select_related("group"):
        assert set(household.group.user_set.values_list("pk", flat=True)) == set(
            household.memberships.values_list("user_id", flat=True)
        )
    recent = User.objects.get(email="bench-recent@bench.example")
    body = client_for(recent).get("/api/v1/budgets/", {"owned": "false"}).json()
    assert body["count"] >= 10
    assert recent.check_password("bench-password-2026")


def test_old_anchor_sees_only_rows_older_than_two_years(client_for):
    seed()
    old = User.objects.get(email="bench-old@bench.example")
    shared = client_for(old).get("/api/v1/transactions/", {"limit": 500, "ordering": "-date"}).json()
    assert shared["count"] > 0
    newest = shared["results"][0]["date"]
    assert newest < "2024-11-01"


def test_same_seed_same_data_and_refuses_a_used_database():
    seed()
    first = fingerprint()
    with pytest.raises(CommandError, match="empty database"):
        seed()
    wipe()
    seed()
    assert fingerprint() == first
