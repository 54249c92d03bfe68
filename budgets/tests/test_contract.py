"""budgets/, categories/ and the staff grants API answer what the OpenAPI schema says they
answer: regressions for the defects schemathesis found (server/tests/test_schemathesis.py)."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission, Category
from budgets.tests.factories import CategoryFactory, share_user
from server.tests.helpers import assert_error
from server.tests.openapi_helpers import api_schema, assert_documented
from server.tests.world import World, build_world
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

BUDGETS = "/api/v1/budgets/"
BUDGET = "/api/v1/budgets/{id}/"
CATEGORIES = "/api/v1/categories/"
GRANTS = "/api/v1/admin/grants/"
SHARE_USER = "/api/v1/budgets/{id}/shares/users/{user_id}/"
SHARE_HOUSEHOLD = "/api/v1/budgets/{id}/shares/households/{household_id}/"

NEW_BUDGET = {
    "name": "Trip",
    "amount": "300.00",
    "currency": "EUR",
    "period": "monthly",
    "start_date": "2026-01-01",
}


@dataclass
class ContractWorld(World):
    """The shared world (server/tests/world.py), with the category "Food" in the budget."""

    category: Category


@pytest.fixture
def world(db) -> ContractWorld:
    world = build_world()
    return ContractWorld.extend(world, category=CategoryFactory(budget=world.budget, name="Food"))


def snapshot() -> dict:
    return {
        "budgets": sorted(
            Budget.objects.values_list("pk", "name", "amount_minor", "currency", "period", "end_date")
        ),
        "categories": sorted(Category.objects.values_list("pk", "budget_id", "name", "allocated_minor")),
        "user_shares": sorted(
            BudgetUserObjectPermission.objects.values_list("pk", "user_id", "permission_id")
        ),
        "group_shares": sorted(
            BudgetGroupObjectPermission.objects.values_list("pk", "group_id", "permission_id")
        ),
    }


# --- budgets ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_custom_period_without_an_end_date_is_documented(world, client_for, method):
    """Found by schemathesis: end_date "required" was missing from the 400's codes."""
    before = snapshot()
    data = {**NEW_BUDGET, "period": "custom", "end_date": None}
    if method == "post":
        response, path = client_for(world.owner).post(BUDGETS, data, format="json"), BUDGETS
    else:
        url = f"{BUDGETS}{world.budget.pk}/"
        response, path = getattr(client_for(world.owner), method)(url, data, format="json"), BUDGET
    assert_error(response, 400, code="required", attr="end_date")
    assert snapshot() == before
    assert_documented(response, method, path)


def test_end_date_before_start_is_documented(world, client_for):
    data = {**NEW_BUDGET, "period": "custom", "end_date": "2025-12-31"}
    response = client_for(world.owner).post(BUDGETS, data, format="json")
    assert_error(response, 400, code="invalid", attr="end_date")
    assert_documented(response, "post", BUDGETS)


def test_currency_locked_by_recorded_amounts_is_documented(world, client_for):
    TransactionFactory(budget=world.budget)
    response = client_for(world.owner).patch(f"{BUDGETS}{world.budget.pk}/", {"currency": "USD"})
    assert_error(response, 400, code="currency_locked", attr="currency")
    assert_documented(response, "patch", BUDGET)


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("", "blank"),
        ("1.234", "max_decimal_places"),
        ("0", "min_value"),
        ("1" * 13, "max_value"),
        (12, "invalid"),
    ],
)
def test_bad_budget_amounts_are_documented(world, client_for, amount, code):
    """Found by schemathesis: an empty amount's "blank" was missing from the 400's codes."""
    before = snapshot()
    response = client_for(world.owner).post(BUDGETS, {**NEW_BUDGET, "amount": amount}, format="json")
    assert_error(response, 400, code=code, attr="amount")
    assert snapshot() == before
    assert_documented(response, "post", BUDGETS)


def test_budget_name_is_taken_only_as_a_string(world, client_for):
    before = snapshot()
    response = client_for(world.owner).post(BUDGETS, {**NEW_BUDGET, "name": 2026}, format="json")
    assert_error(response, 400, code="invalid", attr="name")
    assert snapshot() == before
    assert_documented(response, "post", BUDGETS)


# --- shares ----------------------------------------------------------------------------


def test_sharing_anew_is_a_documented_201_and_again_a_200(world, client_for):
    """Found by schemathesis: a new share answers 201, which the schema did not list."""
    owner = client_for(world.owner)
    url = f"{BUDGETS}{world.budget.pk}/shares/users/{world.member.pk}/"
    created = owner.put(url, {"permission": "view"})
    assert created.status_code == 201
    assert created.json()["grantee"] == {"id": world.member.pk, "email": world.member.email}
    assert_documented(created, "put", SHARE_USER)
    changed = owner.put(url, {"permission": "edit"})
    assert changed.status_code == 200
    assert changed.json()["permission"] == "edit"
    assert_documented(changed, "put", SHARE_USER)


def test_sharing_with_a_household_anew_is_a_documented_201(world, client_for):
    url = f"{BUDGETS}{world.budget.pk}/shares/households/{world.home.pk}/"
    response = client_for(world.owner).put(url, {"permission": "view"})
    assert response.status_code == 201
    assert response.json()["grantee"] == {"id": world.home.pk, "name": "Home"}
    assert_documented(response, "put", SHARE_HOUSEHOLD)


def test_sharing_with_someone_outside_your_households_is_documented(world, client_for):
    """Found by schemathesis: the 400's attr "user" (not a body field) was not in the schema."""
    before = snapshot()
    url = f"{BUDGETS}{world.budget.pk}/shares/users/{world.stranger.pk}/"
    response = client_for(world.owner).put(url, {"permission": "view"})
    assert_error(response, 400, code="no_common_household", attr="user")
    assert snapshot() == before
    assert_documented(response, "put", SHARE_USER)


def test_sharing_with_a_household_you_are_not_in_is_documented(world, client_for):
    url = f"{BUDGETS}{world.budget.pk}/shares/households/{world.elsewhere.pk}/"
    response = client_for(world.owner).put(url, {"permission": "view"})
    assert_error(response, 400, code="not_a_member", attr="household")
    assert_documented(response, "put", SHARE_HOUSEHOLD)


# --- categories ------------------------------------------------------------------------


def test_empty_allocation_is_documented(world, client_for):
    """Found by schemathesis: an empty allocation's "blank" was missing from the 400's codes."""
    before = snapshot()
    data = {"budget": world.budget.pk, "name": "Fuel", "allocated": ""}
    response = client_for(world.owner).post(CATEGORIES, data, format="json")
    assert_error(response, 400, code="blank", attr="allocated")
    assert snapshot() == before
    assert_documented(response, "post", CATEGORIES)


def test_duplicate_category_name_is_documented(world, client_for):
    response = client_for(world.owner).post(CATEGORIES, {"budget": world.budget.pk, "name": "food"})
    assert_error(response, 400, code="unique", attr="name")
    assert_documented(response, "post", CATEGORIES)


def test_category_name_is_taken_only_as_a_string(world, client_for):
    response = client_for(world.owner).post(CATEGORIES, {"budget": world.budget.pk, "name": 5}, format="json")
    assert_error(response, 400, code="invalid", attr="name")
    assert not Category.objects.filter(name="5").exists()


# --- staff grants ----------------------------------------------------------------------


@pytest.fixture
def granter(client_for):
    """A client for staff holding budgets.manage_grants."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_grants"))
    return client_for(user)


def test_grant_list_filtered_by_an_unknown_id_is_documented(world, granter):
    """Found by schemathesis: the list's filter errors (read by hand) were not in the schema."""
    response = granter.get(GRANTS, {"budget": world.budget.pk + 1000})
    assert_error(response, 400, code="invalid_choice", attr="budget")
    assert_documented(response, "get", GRANTS)


@pytest.mark.parametrize("name", ["budget", "user", "household"])
def test_grant_list_filter_with_a_nul_character_is_documented(world, granter, name):
    """Found by schemathesis (stateful run): "null_characters_not_allowed" was not in the schema."""
    response = granter.get(GRANTS, {name: "7\x00"})
    assert_error(response, 400, code="null_characters_not_allowed", attr=name)
    assert_documented(response, "get", GRANTS)


def test_grant_list_with_an_empty_filter_lists_every_grant(world, granter):
    """Found by schemathesis: ?budget= was served, though the schema did not allow it empty."""
    share_user(world.budget, world.member)
    response = granter.get(GRANTS, {"budget": ""})
    assert response.status_code == 200
    # The shared budget's grants (users first, by id), with the member's new one among them.
    assert [(row["grantee_type"], row["grantee"]["id"]) for row in response.json()["results"]] == [
        ("user", world.editor.pk),
        ("user", world.viewer.pk),
        ("user", world.member.pk),
        ("household", world.flat.pk),
    ]
    assert_documented(response, "get", GRANTS)
    parameters = {p["name"]: p for p in api_schema().raw_schema["paths"][GRANTS]["get"]["parameters"]}
    assert parameters["budget"]["allowEmptyValue"] is True


@pytest.mark.parametrize(
    ("data", "code", "attr"),
    [
        ({"permission": "view"}, "one_grantee", "non_field_errors"),
        ({"permission": "view", "user": "owner"}, "budget_owner", "user"),
    ],
)
def test_grant_refusals_are_documented(world, granter, data, code, attr):
    before = snapshot()
    if data.get("user") == "owner":
        data = {**data, "user": world.owner.pk}
    response = granter.post(GRANTS, {"budget": world.budget.pk, **data}, format="json")
    assert_error(response, 400, code=code, attr=attr)
    assert snapshot() == before
    assert_documented(response, "post", GRANTS)
