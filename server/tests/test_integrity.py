"""Every constraint a request can hit answers as the check before it does: the constraint's
name is read from either database's error and mapped (server/integrity.py)."""

import logging

import pytest
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import Budget, Category
from budgets.tests.factories import BudgetFactory
from households.models import Invitation, Membership
from households.tests.factories import InvitationFactory, make_household
from server.exceptions import Conflict
from server.integrity import as_api_error, violated_constraint

pytestmark = pytest.mark.django_db


def _violation(write) -> IntegrityError:
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        write()
    return raised.value


def _detail(error) -> list[tuple[str, str, str]]:
    detail = error.detail
    if isinstance(detail, dict):
        return [(attr, str(item), item.code) for attr, items in detail.items() for item in items]
    return [(None, str(detail), detail.code)]


def test_a_second_account_for_one_email_is_the_unique_email_error():
    UserFactory(email="sam@example.com")
    error = as_api_error(_violation(lambda: User.objects.create(email="sam@example.com")))
    assert isinstance(error, ValidationError)
    assert _detail(error) == [("email", "A user with this email already exists.", "unique")]


def test_an_email_differing_only_in_case_hits_the_folded_constraint():
    UserFactory(email="sam@example.com")
    exc = _violation(lambda: User.objects.create(email="SAM@example.com"))
    assert violated_constraint(exc) == "accounts_user_email_ci_unique"
    assert _detail(as_api_error(exc))[0][2] == "unique"


def test_a_second_category_of_one_name_is_the_unique_name_error():
    budget = BudgetFactory()
    Category.objects.create(budget=budget, name="Food")
    exc = _violation(lambda: Category.objects.create(budget=budget, name="FOOD"))
    assert violated_constraint(exc) == "budgets_category_name_ci_unique"
    assert _detail(as_api_error(exc)) == [
        ("name", "This budget already has a category with this name.", "unique")
    ]


def test_a_second_pending_invitation_is_already_invited():
    invitation = InvitationFactory(email="guest@example.com")
    exc = _violation(lambda: InvitationFactory(household=invitation.household, email="guest@example.com"))
    assert _detail(as_api_error(exc)) == [
        ("email", "This email already has a pending invitation to the household.", "already_invited")
    ]
    assert Invitation.objects.filter(email="guest@example.com").count() == 1


def test_a_second_membership_is_already_member():
    member = UserFactory()
    household = make_household(members=[member])
    error = as_api_error(_violation(lambda: Membership.objects.create(household=household, user=member)))
    assert isinstance(error, Conflict)
    assert _detail(error) == [(None, "You are already a member of this household.", "already_member")]


def test_a_second_owner_is_one_owner():
    household = make_household()
    exc = _violation(lambda: Membership.objects.create(household=household, user=UserFactory(), role="owner"))
    error = as_api_error(exc)
    assert isinstance(error, Conflict)
    assert _detail(error)[0][2] == "one_owner"


def test_a_constraint_nobody_named_is_a_logged_409_not_a_500(caplog):
    budget = BudgetFactory()
    exc = _violation(lambda: Budget.objects.filter(pk=budget.pk).update(amount_minor=-1))
    assert violated_constraint(exc) == "budgets_budget_amount_positive"
    with caplog.at_level(logging.ERROR, logger="server.integrity"):
        error = as_api_error(exc)
    assert isinstance(error, Conflict) and error.status_code == 409
    assert _detail(error)[0][2] == "concurrent_change"
    assert "budgets_budget_amount_positive" in caplog.text
