"""The shared world (server/tests/world.py) with categories and transactions in both budgets.

``world.budget`` ("Family", EUR 2000.00, monthly from 2026-01-01) is the owner's, read by
READERS and written by WRITERS; OUTSIDERS hold no share. It has categories ``food`` and
``rent`` and three transactions: ``groceries`` (food), ``salary`` (income, no category)
and ``rent_paid`` (rent). The stranger's ``foreign_budget`` has the category "Hidden" and
one transaction, so foreign rows exist.
"""

import datetime
from dataclasses import dataclass

import pytest

from budgets.models import Category
from budgets.tests.factories import CategoryFactory
from server.tests.world import World, build_world
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory


@dataclass
class TransactionsWorld(World):
    food: Category
    rent: Category
    groceries: Transaction
    salary: Transaction
    rent_paid: Transaction
    foreign_category: Category
    foreign_tx: Transaction


@pytest.fixture
def world(db) -> TransactionsWorld:
    world = build_world(budget_name="Family", budget_amount_minor=200_000)
    budget = world.budget
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

    foreign_category = CategoryFactory(budget=world.foreign_budget, name="Hidden")
    foreign_tx = TransactionFactory(
        budget=world.foreign_budget,
        category=foreign_category,
        amount_minor=77_777,
        date=datetime.date(2026, 1, 10),
        payee="Stranger Secret Payee",
        description="foreign description",
    )
    return TransactionsWorld.extend(
        world,
        food=food,
        rent=rent,
        groceries=groceries,
        salary=salary,
        rent_paid=rent_paid,
        foreign_category=foreign_category,
        foreign_tx=foreign_tx,
    )
