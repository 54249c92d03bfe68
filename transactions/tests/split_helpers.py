"""A household of three sharing one EUR budget, for the shared-costs tests.

Alice owns household Home (Bob admin, Carol member) and budget Groceries (EUR), shared with
Home to edit; Dave is a stranger with a household and a budget of his own. Ids are ordered
alice < bob < carol, so the rounding table's ties go to Alice first."""

import datetime
from dataclasses import dataclass

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import Budget
from budgets.tests.factories import BudgetFactory, share_household
from households.models import Household, Role
from households.tests.factories import add_member, make_household

DAY = datetime.date(2026, 3, 14)


@dataclass
class Home:
    alice: User
    bob: User
    carol: User
    dave: User
    home: Household
    budget: Budget
    theirs: Household


def build_home(currency: str = "EUR") -> Home:
    alice, bob, carol, dave = (
        UserFactory(email=f"{n}@example.com") for n in ("alice", "bob", "carol", "dave")
    )
    home = make_household(alice, name="Home")
    add_member(home, bob, Role.ADMIN)
    add_member(home, carol, Role.MEMBER)
    budget = BudgetFactory(owner=alice, name="Groceries", currency=currency)
    share_household(budget, home, "edit")
    theirs = make_household(dave, name="Dave's")
    return Home(alice, bob, carol, dave, home, budget, theirs)


def expense(home: Home, amount: str, split: dict | None = None, **extra) -> dict:
    body = {
        "budget": home.budget.pk,
        "kind": "expense",
        "amount": amount,
        "date": DAY.isoformat(),
        "payee": "Market",
    }
    if split is not None:
        body["split"] = split
    return {**body, **extra}


def split(home: Home, paid_by: User, mode: str = "equal", shares=None) -> dict:
    return {"household": home.home.pk, "paid_by": paid_by.pk, "mode": mode, "shares": shares or []}


def amounts(body: dict) -> dict[int, str]:
    return {share["user"]: share["amount"] for share in body["split"]["shares"]}
