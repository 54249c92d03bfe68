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


# Shared costs: the Archer family split some of their Groceries, and one of them settled up once.
SPLIT_BUDGET, SPLIT_HOUSEHOLD = "Groceries", "Archer family"
SPLIT_EVERY = 4  # every 4th expense of the budget, paid by alice, bob, carol in turn
SETTLED_DAYS_AGO = 3


def seed_splits(data: DemoData) -> None:
    """Splits and a settlement, so that balances and debts show something at once: equal
    splits among the household's members, by whoever's turn it is to pay; then whoever owes
    the most pays half of it, dated a few days before the seeding day."""
    from accounts.models import User
    from transactions.models import Split
    from transactions.splits.selectors import household_debts
    from transactions.splits.services import SplitWriter, lock_split_households, settlement_create

    household = data.households[SPLIT_HOUSEHOLD]
    if Split.objects.filter(household=household).exists():
        return
    budget = data.budgets[SPLIT_BUDGET]
    payers = [data.users[key] for key in ("alice", "bob", "carol")]
    writer = SplitWriter(actor=None, locked_households=lock_split_households([household.pk]))
    expenses = budget.transactions.filter(kind=Kind.EXPENSE).order_by("date", "id")
    for index, tx in enumerate(expenses[::SPLIT_EVERY]):
        payer = payers[index % len(payers)]
        spec = {"household": household, "paid_by": payer.pk, "mode": "equal", "shares": []}
        writer.write(tx=tx, budget=budget, spec=spec)
        data.record_created(tx.split)
    debts = household_debts(household.pk).get(budget.currency, [])
    if debts:
        debtor, creditor, owed = max(debts, key=lambda debt: (debt[2], -debt[0]))
        settlement = settlement_create(
            household=household,
            actor=User.objects.get(pk=debtor),
            from_id=debtor,
            to_id=creditor,
            amount_minor=owed // 2,
            currency=budget.currency,
            date=data.today - datetime.timedelta(days=SETTLED_DAYS_AGO),
            note="Half of what I owed for groceries, cash",
        )
        data.record_created(settlement)
