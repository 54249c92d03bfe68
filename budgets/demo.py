"""seed_demo step: per household, private budgets, one shared with the whole household
to view, one shared to edit with one member; each with categories."""

import datetime

from accounts.demo import DemoData
from budgets import services
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission
from money.amounts import parse_amount

# (owner, name, amount, currency, period, categories, share)
# share: None (private), ("household", household name, level) or ("user", user key, level)
DEMO_BUDGETS = (
    (
        "alice",
        "Groceries",
        "600.00",
        "EUR",
        "monthly",
        ("Food", "Household goods"),
        ("household", "Archer family", "view"),
    ),
    ("alice", "Holidays", "2500.00", "EUR", "yearly", ("Travel", "Hotels"), ("user", "bob", "edit")),
    ("alice", "Personal", "300.00", "EUR", "monthly", ("Books", "Clothes"), None),
    ("bob", "Car", "150.00", "EUR", "monthly", ("Fuel", "Repairs"), None),
    (
        "carol",
        "Flat bills",
        "90000",
        "JPY",
        "monthly",
        ("Rent", "Utilities"),
        ("household", "Flat 4B", "view"),
    ),
    ("carol", "Shared kitchen", "120.000", "BHD", "weekly", ("Food",), ("user", "dave", "edit")),
    ("dave", "Savings", "200.00", "GBP", "monthly", ("Emergency fund",), None),
)


def remove_budgets(users) -> int:
    """For `seed_demo --reset`: deletes the budgets ``users`` own, with everything in them
    (categories, transactions, shares and grants). Returns how many went."""
    removed = 0
    for budget in Budget.objects.filter(owner__in=users).order_by("pk"):
        services.budget_delete(budget=budget)
        removed += 1
    return removed


def seed_budgets(data: DemoData) -> None:
    # Before the first demo transaction (a year back from today); on the 1st of January, so
    # the monthly and yearly periods are calendar months and years.
    start = datetime.date(data.today.year - 1, 1, 1)
    for owner_key, name, amount, currency, period, categories, share in DEMO_BUDGETS:
        owner = data.users[owner_key]
        budget = Budget.objects.filter(owner=owner, name=name).first()
        if budget is None:
            budget = services.budget_create(
                owner=owner,
                name=name,
                amount_minor=parse_amount(amount, currency),
                currency=currency,
                period=period,
                start_date=start,
            )
            data.record_created(budget)
        for category_name in categories:
            if not budget.categories.filter(name=category_name).exists():
                data.record_created(services.category_create(budget=budget, name=category_name))
        if share:
            _share(data, budget, *share)
        data.budgets[name] = budget


def _share(data: DemoData, budget: Budget, kind: str, target: str, level: str) -> None:
    if kind == "household":
        household = data.households[target]
        if not BudgetGroupObjectPermission.objects.filter(
            content_object=budget, group=household.group
        ).exists():
            services.share_with_household(
                budget=budget, household_id=household.pk, level=level, actor=budget.owner
            )
            data.created[BudgetGroupObjectPermission._meta.label] += 1
    else:
        user = data.users[target]
        if not BudgetUserObjectPermission.objects.filter(content_object=budget, user=user).exists():
            services.share_with_user(budget=budget, user_id=user.pk, level=level, actor=budget.owner)
            data.created[BudgetUserObjectPermission._meta.label] += 1
