"""budgets/ costs a fixed number of queries, whatever the page holds."""

import pytest

from accounts.tests.factories import UserFactory
from budgets.models import BudgetGroupObjectPermission, BudgetUserObjectPermission
from budgets.tests.factories import BudgetFactory, share_household, share_user
from households.tests.factories import make_household

pytestmark = pytest.mark.django_db

BUDGETS = "/api/v1/budgets/"


def _shared_budgets(n):
    """``n`` budgets of the owner, alternately shared with the sharee by a user share
    (edit, view) and with their common household (view); plus shares of a bystander's
    budget that neither of them may see."""
    owner, sharee, bystander = UserFactory(), UserFactory(), UserFactory()
    home = make_household(owner, members=[sharee, bystander])
    flat = make_household(bystander, members=[UserFactory()])
    for i in range(n):
        budget = BudgetFactory(owner=owner, name=f"Budget {i:02}")
        if i % 2:
            share_household(budget, home, "view")
        else:
            share_user(budget, sharee, "edit" if i % 4 == 0 else "view")
        share_user(budget, bystander, "view")
    elsewhere = BudgetFactory(owner=bystander)
    share_household(elsewhere, flat, "edit")
    assert BudgetUserObjectPermission.objects.exists() and BudgetGroupObjectPermission.objects.exists()
    return owner, sharee


@pytest.mark.parametrize("n", [1, 50])
def test_budget_list_for_the_owner_takes_at_most_three_queries(client_for, django_assert_max_num_queries, n):
    owner, _ = _shared_budgets(n)
    client = client_for(owner)
    with django_assert_max_num_queries(3):
        response = client.get(BUDGETS)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], len(body["results"])) == (n, n)
    assert {tuple(item["my_permissions"]) for item in body["results"]} == {
        ("view", "change", "delete", "share")
    }
    assert {item["owner"]["id"] for item in body["results"]} == {owner.pk}


@pytest.mark.parametrize("n", [1, 50])
def test_budget_list_for_a_sharee_takes_at_most_three_queries(client_for, django_assert_max_num_queries, n):
    owner, sharee = _shared_budgets(n)
    client = client_for(sharee)
    with django_assert_max_num_queries(3):
        response = client.get(BUDGETS)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], len(body["results"])) == (n, n)
    assert {item["owner"]["id"] for item in body["results"]} == {owner.pk}
    rights = {item["name"]: item["my_permissions"] for item in body["results"]}
    assert rights == {f"Budget {i:02}": ["view", "change"] if i % 4 == 0 else ["view"] for i in range(n)}
