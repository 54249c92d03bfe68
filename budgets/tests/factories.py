import datetime

import factory

from accounts.tests.factories import UserFactory
from budgets import services
from budgets.models import Budget, Category


class BudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Budget

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Budget {n}")
    amount_minor = 50_000
    currency = "EUR"
    period = "monthly"
    start_date = datetime.date(2026, 1, 1)
    end_date = None


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    budget = factory.SubFactory(BudgetFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    allocated_minor = 10_000


def share_user(budget, user, level="view"):
    return services.share_with_user(budget=budget, user_id=user.pk, level=level, actor=budget.owner)


def share_household(budget, household, level="view"):
    return services.share_with_household(
        budget=budget, household_id=household.pk, level=level, actor=budget.owner
    )
