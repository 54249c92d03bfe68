"""One shared budget with every kind of actor around it, and a stranger with rows of their own.

``world.budget`` (EUR, monthly from 2026-01-01) is the owner's. It is shared by user
share with ``editor`` (edit) and ``viewer`` (view), all three in household "Home" with
``member``, who has no share; and with household "Flat" (owner + ``household_editor``)
to edit. ``stranger`` lives elsewhere with a budget and transactions of their own, so
foreign rows exist. ``staff``, ``superuser`` and ``global_perms`` (model-wide
view/change permissions on budgets and transactions) hold no grant at all.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import Budget, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from households.models import Household
from households.tests.factories import make_household
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

WRITERS = ("owner", "editor", "household_editor")
READERS = (*WRITERS, "viewer")
OUTSIDERS = ("member", "stranger", "staff", "superuser", "global_perms")
ACTORS = (*READERS, *OUTSIDERS, "anonymous")

GLOBAL_PERMS = (
    ("budgets", "view_budget"),
    ("budgets", "change_budget"),
    ("transactions", "view_transaction"),
    ("transactions", "add_transaction"),
    ("transactions", "change_transaction"),
    ("transactions", "delete_transaction"),
)


@dataclass
class World:
    owner: User
    editor: User
    viewer: User
    household_editor: User
    member: User
    stranger: User
    staff: User
    superuser: User
    global_perms: User
    home: Household
    flat: Household
    budget: Budget
    food: Category
    rent: Category
    groceries: Transaction
    salary: Transaction
    rent_paid: Transaction
    foreign_budget: Budget
    foreign_category: Category
    foreign_tx: Transaction


@pytest.fixture
def world(db) -> World:
    owner, editor, viewer, household_editor, member = (UserFactory() for _ in range(5))
    home = make_household(owner, name="Home", members=[editor, viewer, member])
    flat = make_household(owner, name="Flat", members=[household_editor])
    budget = BudgetFactory(owner=owner, name="Family", currency="EUR", amount_minor=200_000)
    share_user(budget, editor, "edit")
    share_user(budget, viewer, "view")
    share_household(budget, flat, "edit")
    food = CategoryFactory(budget=budget, name="Food", allocated_minor=30_000)
    rent = CategoryFactory(budget=budget, name="Rent", allocated_minor=100_000)
    groceries = TransactionFactory(
        budget=budget,
        category=food,
        amount_minor=4_250,
        date=datetime.date(2026, 1, 10),
        payee="Market",
        description="weekly shop",
        notes="bread, milk",
    )
    salary = TransactionFactory(
        budget=budget, kind="income", amount_minor=250_000, date=datetime.date(2026, 1, 1), payee="Employer"
    )
    rent_paid = TransactionFactory(
        budget=budget, category=rent, amount_minor=90_000, date=datetime.date(2026, 1, 3), payee="Landlord"
    )

    stranger = UserFactory()
    make_household(stranger, name="Elsewhere", members=[UserFactory()])
    foreign_budget = BudgetFactory(owner=stranger, name="Secret", currency="EUR")
    foreign_category = CategoryFactory(budget=foreign_budget, name="Hidden")
    foreign_tx = TransactionFactory(
        budget=foreign_budget,
        category=foreign_category,
        amount_minor=77_777,
        date=datetime.date(2026, 1, 10),
        payee="Stranger Secret Payee",
        description="foreign description",
    )

    staff = UserFactory(is_staff=True)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    global_perms = UserFactory()
    global_perms.user_permissions.add(
        *(
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in GLOBAL_PERMS
        )
    )
    return World(
        owner=owner,
        editor=editor,
        viewer=viewer,
        household_editor=household_editor,
        member=member,
        stranger=stranger,
        staff=staff,
        superuser=superuser,
        global_perms=global_perms,
        home=home,
        flat=flat,
        budget=budget,
        food=food,
        rent=rent,
        groceries=groceries,
        salary=salary,
        rent_paid=rent_paid,
        foreign_budget=foreign_budget,
        foreign_category=foreign_category,
        foreign_tx=foreign_tx,
    )


@pytest.fixture
def as_(world, client_for, anon):
    """``as_("viewer")`` -> an API client for that actor of ``world``; "anonymous" has none."""

    def make(actor: str):
        if actor == "anonymous":
            return anon
        return client_for(getattr(world, actor))

    return make
