import datetime

import factory

from budgets.tests.factories import BudgetFactory
from transactions.models import Kind, Transaction


class TransactionFactory(factory.django.DjangoModelFactory):
    """A transaction recorded by its budget's owner, in minor units of the budget's currency."""

    class Meta:
        model = Transaction

    budget = factory.SubFactory(BudgetFactory)
    category = None
    created_by = factory.LazyAttribute(lambda o: o.budget.owner)
    kind = Kind.EXPENSE
    amount_minor = 1_234
    date = datetime.date(2026, 1, 15)
    payee = factory.Sequence(lambda n: f"Payee {n}")
    description = ""
    notes = ""
