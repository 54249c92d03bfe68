"""seed_demo step: a few hundred transactions over months, categories and members."""

import datetime
import random

from accounts.demo import DemoData
from budgets.shares import CHANGE_CODENAME, codename_id
from money.currencies import minor_units
from transactions.models import Kind, Transaction

PAYEES = ("Corner shop", "Supermarket", "Rail company", "Bookshop", "Garage", "Landlord", "Power Co", "Cafe")
PER_BUDGET = 50
FIRST_DAY = datetime.date(2026, 1, 1)
DAYS = 300


def seed_transactions(data: DemoData) -> None:
    rng = random.Random(2026)  # deterministic demo data  # noqa: S311
    for name, budget in data.budgets.items():
        if budget.transactions.exists():
            continue
        categories = list(budget.categories.order_by("name"))
        recorders = [budget.owner, *_editors(budget)]
        scale = 10 ** minor_units(budget.currency)
        rows = []
        for i in range(PER_BUDGET):
            income = i % 10 == 0
            rows.append(
                Transaction(
                    budget=budget,
                    category=None if income or i % 7 == 0 else rng.choice(categories),
                    created_by=rng.choice(recorders),
                    kind=Kind.INCOME if income else Kind.EXPENSE,
                    amount_minor=rng.randint(1 * scale, 120 * scale) if not income else 500 * scale,
                    date=FIRST_DAY + datetime.timedelta(days=rng.randrange(DAYS)),
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
        )
    )
