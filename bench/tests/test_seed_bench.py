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


def test_a_tenth_of_the_transactions_are_split_exactly_among_members(client_for):
    from django.db.models import F

    from transactions.models import Split, SplitShare
    from transactions.splits.selectors import member_nets

    seed()
    splits = Split.objects.count()
    assert 0.07 * 5_000 <= splits <= 0.13 * 5_000
    # Each split's shares sum to its transaction's amount (income reversed), among members only.
    sums = SplitShare.objects.values("split_id").annotate(total=Sum("amount_minor"))
    signed = {
        tx.pk: tx.amount_minor * (-1 if tx.kind == "income" else 1)
        for tx in Transaction.objects.filter(pk__in=Split.objects.values("pk"))
    }
    assert {row["split_id"]: row["total"] for row in sums} == signed
    assert not SplitShare.objects.exclude(user__memberships__household=F("household")).exists()
    for household in Household.objects.filter(pk__in=Split.objects.values("household_id")):
        assert all(sum(nets.values()) == 0 for nets in member_nets(household.pk).values())
    recent = User.objects.get(email="bench-recent@bench.example")
    household = Household.objects.filter(memberships__user=recent).first()
    api = client_for(recent)
    assert api.get(f"/api/v1/households/{household.pk}/balances/").json()
    assert api.get(f"/api/v1/households/{household.pk}/debts/", {"simplify": "true"}).json()["debts"]
    # The bench case's floor view (mounted only with BENCH_ENDPOINTS): the same aggregates.
    import json

    from django.test import RequestFactory

    from bench.views import household_balances

    floor = household_balances(RequestFactory().get("/", {"user": recent.pk}), household.pk)
    assert floor.status_code == 200
    shares = json.loads(floor.content)["shares"]
    assert (
        sum(row["total"] for row in shares)
        == SplitShare.objects.filter(household=household).aggregate(t=Sum("amount_minor"))["t"]
    )


def test_issue_16_users_advisers_and_a_member_of_five_households(client_for):
    """The advisers' admin grants are what the staff grants API writes for "view" (one
    view_budget row each, source admin, granted by the staff member), on the busy budgets,
    the smaller adviser's among the larger's; the member of five households sees their
    shared budgets."""
    from budgets.models import GrantSource
    from budgets.shares import VIEW_CODENAME, codename_id, share_keys, shares_for

    seed()
    staff = User.objects.get(email="bench-staff@bench.example")
    assert staff.is_staff and staff.has_perm("budgets.manage_grants")
    granted = {}
    for n in (500, 2000):
        adviser = User.objects.get(email=f"bench-adviser-{n}@bench.example")
        rows = BudgetUserObjectPermission.objects.filter(user=adviser)
        assert set(rows.values_list("permission_id", "source", "granted_by")) == {
            (codename_id(VIEW_CODENAME), GrantSource.ADMIN, staff.pk)
        }
        granted[n] = set(rows.values_list("content_object_id", flat=True))
        # The staff grants API reads them as admin "view" grants.
        shares = shares_for(share_keys(user=adviser))
        assert {(s.permission, s.granted_by) for s in shares} == {("view", GrantSource.ADMIN)}
        body = client_for(adviser).get("/api/v1/transactions/", {"limit": 1}).json()
        assert body["count"] == Transaction.objects.filter(budget_id__in=granted[n]).count() > 0
    # --scale small has 43 busy budgets: both advisers get all of them.
    assert granted[500] <= granted[2000] and len(granted[2000]) == 43
    # The busy budgets hold the same number of rows each, more than the others' average.
    per_busy = set(
        Transaction.objects.filter(budget_id__in=granted[2000])
        .values("budget_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert len(per_busy) == 1 and per_busy.pop() > Transaction.objects.count() / Budget.objects.count()

    many = User.objects.get(email="bench-households@bench.example")
    homes = Household.objects.filter(memberships__user=many)
    assert homes.count() == 5
    assert set(many.groups.values_list("pk", flat=True)) == set(homes.values_list("group_id", flat=True))
    assert client_for(many).get("/api/v1/transactions/").json()["count"] > 0
