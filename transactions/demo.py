"""seed_demo step: a few hundred transactions over the twelve months up to today.

The dates count back from ``data.today``, so the same day always gives the same rows (a
fixed seed), and every budget's current period has spending whatever day it is seeded:
each budget gets a few expenses dated today and earlier this month.
"""

import datetime
import random

from accounts.demo import DemoData
from budgets.shares import CHANGE_CODENAME, codename_id
from money.currencies import minor_units
from transactions.models import Kind, Transaction

PAYEES = ("Corner shop", "Supermarket", "Rail company", "Bookshop", "Garage", "Landlord", "Power Co", "Cafe")
PER_BUDGET = 50
DAYS = 365  # today and the 364 days before it
# Rows (by index) that are expenses dated in the current month: the first one today, so
# that even a weekly budget's current period, or a seeding on the 1st, has spending.
THIS_MONTH_ROWS = (1, 2, 3)


def seed_transactions(data: DemoData) -> None:
    rng = random.Random(2026)  # deterministic demo data  # noqa: S311
    today = data.today
    month_start = today.replace(day=1)
    for name, budget in data.budgets.items():
        if budget.transactions.exists():
            continue
        categories = list(budget.categories.order_by("name"))
        recorders = [budget.owner, *_editors(budget)]
        scale = 10 ** minor_units(budget.currency)
        rows = []
        for i in range(PER_BUDGET):
            income = i % 10 == 0
            if i == THIS_MONTH_ROWS[0]:
                date = today
            elif i in THIS_MONTH_ROWS:
                date = month_start + datetime.timedelta(days=rng.randrange(today.day))
            else:
                date = today - datetime.timedelta(days=rng.randrange(DAYS))
            rows.append(
                Transaction(
                    budget=budget,
                    category=None if income or i % 7 == 0 else rng.choice(categories),
                    created_by=rng.choice(recorders),
                    kind=Kind.INCOME if income else Kind.EXPENSE,
                    amount_minor=rng.randint(1 * scale, 120 * scale) if not income else 500 * scale,
                    date=date,
                    payee="Salary" if income else rng.choice(PAYEES),
                    description=f"{name} #{i + 1}",
                )
            )
        for row in Transaction.objects.bulk_create(rows):
            data.record_created(row)


def _editors(budget):
    from accounts.models import User

    return list(
        User.objects.filter(
            pk__in=budget.user_shares.filter(permission_id=codename_id(CHANGE_CODENAME)).values("user")
        ).order_by("pk")
    )
