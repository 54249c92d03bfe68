"""seed_demo's dates count back from the day it runs, and --reset rebuilds the demo."""

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.demo import DEMO_BUDGETS
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission
from budgets.tests.factories import BudgetFactory, share_household, share_user
from households.models import Household, Invitation, Membership
from households.tests.factories import add_member, make_household
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

# The 1st of a month, the 1st of a year (a yearly budget's period just began), a leap day,
# the last day of a year, and a Wednesday (a weekly budget anchored on a Friday).
DAYS = [
    datetime.date(2026, 3, 1),
    datetime.date(2027, 1, 1),
    datetime.date(2028, 2, 29),
    datetime.date(2026, 12, 31),
    datetime.date(2026, 12, 2),
]


BUDGET_FIELDS = ["id", "owner", "name", "amount_minor", "currency", "period", "start_date", "created_at"]


def on(day: datetime.date):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(12), datetime.UTC), tick=False)


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--allow-without-debug", *args, stdout=out)
    return out.getvalue()


def demo_rows() -> list[tuple]:
    """Every demo transaction, by what a user sees of it (ids differ between databases)."""
    return sorted(
        Transaction.objects.values_list(
            "budget__owner__email",
            "budget__name",
            "date",
            "kind",
            "amount_minor",
            "category__name",
            "created_by__email",
            "payee",
            "description",
        )
    )


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_every_demo_budget_has_spending_in_the_period_containing_the_seeding_day(day, client_for):
    with on(day):
        seed()
        for budget in Budget.objects.select_related("owner"):
            response = client_for(budget.owner).get(f"/api/v1/budgets/{budget.pk}/summary/")

            assert response.status_code == 200, response.json()
            summary = response.json()
            assert summary["period_start"] <= day.isoformat() <= summary["period_end"], budget.name
            assert float(summary["spent"]) > 0, (budget.name, summary)
    assert Budget.objects.count() == len(DEMO_BUDGETS)


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_demo_transactions_span_the_twelve_months_up_to_the_seeding_day(day):
    with on(day):
        seed()

    dates = list(Transaction.objects.values_list("date", flat=True))
    assert len(dates) == 350
    assert max(dates) == day
    assert min(dates) >= day - datetime.timedelta(days=364)
    assert min(dates) < day - datetime.timedelta(days=300)  # the year is covered, not a corner of it
    # Each budget has expenses this month, today's included.
    for budget in Budget.objects.all():
        this_month = budget.transactions.filter(kind="expense", date__gte=day.replace(day=1), date__lte=day)
        assert this_month.filter(date=day).exists(), budget.name
        assert this_month.count() >= 3, budget.name
    # Every budget starts before its first transaction.
    assert all(b.start_date <= min(dates) for b in Budget.objects.all())


def test_the_same_day_gives_the_same_rows_and_the_next_day_other_ones():
    day = datetime.date(2026, 6, 15)
    with on(day):
        seed()
        first = demo_rows()
        seed("--reset")
        again = demo_rows()
    with on(day + datetime.timedelta(days=1)):
        seed("--reset")
        next_day = demo_rows()

    assert again == first
    assert len(first) == 350
    assert next_day != first
    assert max(row[2] for row in next_day) == day + datetime.timedelta(days=1)


def test_reset_rebuilds_the_demo_dated_from_today():
    with on(datetime.date(2026, 1, 10)):
        seed()
    alice = User.objects.get(email="alice@example.com")
    groceries = Budget.objects.get(owner=alice, name="Groceries")
    Transaction.objects.filter(budget=groceries).delete()
    BudgetFactory(owner=alice, name="Scratch")
    Household.objects.get(name="Archer family").memberships.filter(user__email="carol@example.com").delete()

    with on(datetime.date(2026, 11, 20)):
        output = seed("--reset")

    assert "Demo data removed: 8 budgets, 2 households." in output
    assert sorted(Budget.objects.filter(owner=alice).values_list("name", flat=True)) == [
        "Groceries",
        "Holidays",
        "Personal",
    ]
    assert Budget.objects.count() == len(DEMO_BUDGETS)
    assert Transaction.objects.count() == 350
    assert max(Transaction.objects.values_list("date", flat=True)) == datetime.date(2026, 11, 20)
    assert Household.objects.count() == 2
    archers = Household.objects.get(name="Archer family")
    assert archers.memberships.filter(user__email="carol@example.com").exists()
    assert Invitation.objects.filter(email="erin@example.com", status="pending").count() == 1
    assert BudgetGroupObjectPermission.objects.count() == 2  # Groceries and Flat bills, to view
    # The accounts stay: same rows, same passwords.
    assert User.objects.get(email="alice@example.com").pk == alice.pk


def test_reset_keeps_other_peoples_data():
    seed()
    alice = User.objects.get(email="alice@example.com")
    dave = User.objects.get(email="dave@example.com")
    erin = UserFactory(email="erin@example.com")
    # Erin's own household, with Alice in it; her budget, shared with Alice; her transactions,
    # one of them recorded by Alice.
    erins_home = make_household(erin, name="Erin's", members=[alice])
    erins_budget = BudgetFactory(owner=erin, name="Erin's budget")
    TransactionFactory.create_batch(3, budget=erins_budget)
    TransactionFactory(budget=erins_budget, created_by=alice)
    share_user(erins_budget, alice, "edit")
    # Erin also joined Carol's demo flat, and shared her budget with it.
    flat = Household.objects.get(name="Flat 4B")
    add_member(flat, erin)
    share_household(erins_budget, flat)
    share_user(erins_budget, dave)  # only the flat in common

    def erins_data() -> dict:
        return {
            # Not its version, which the reset raises: the shares it loses are part of its JSON.
            "budget": list(Budget.objects.filter(owner=erin).values(*BUDGET_FIELDS)),
            "transactions": list(Transaction.objects.filter(budget=erins_budget).order_by("pk").values()),
            "household": list(Household.objects.filter(pk=erins_home.pk).values("pk", "name", "group")),
            "members": list(erins_home.memberships.order_by("pk").values("user", "role")),
            "alice_share": list(
                BudgetUserObjectPermission.objects.filter(content_object=erins_budget, user=alice)
                .order_by("pk")
                .values("pk", "permission")
            ),
        }

    before = erins_data()

    seed("--reset")

    after = erins_data()
    assert after == before
    assert len(after["transactions"]) == 4 and len(after["alice_share"]) == 2
    assert User.objects.filter(pk=erin.pk).exists()
    # What hung on the demo flat goes with it, as when its owner deletes it through the API:
    # Erin's membership, her budget's share with the flat, and her share with Dave, whom she
    # knew only through the flat. A new Flat 4B invites her again.
    assert not Membership.objects.filter(user=erin, household__name="Flat 4B").exists()
    assert not BudgetGroupObjectPermission.objects.filter(content_object=erins_budget).exists()
    assert not BudgetUserObjectPermission.objects.filter(content_object=erins_budget, user=dave).exists()
    assert Invitation.objects.filter(email="erin@example.com", status="pending").count() == 1


def test_reset_refuses_with_debug_off_and_deletes_nothing(settings):
    seed()
    before = (Budget.objects.count(), Transaction.objects.count(), Household.objects.count())
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("seed_demo", "--reset", stdout=io.StringIO())

    assert (Budget.objects.count(), Transaction.objects.count(), Household.objects.count()) == before


def test_reset_on_an_empty_database_seeds():
    output = seed("--reset")

    assert "Demo data removed: 0 budgets, 0 households." in output
    assert Budget.objects.count() == len(DEMO_BUDGETS)
