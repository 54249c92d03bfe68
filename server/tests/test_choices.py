"""Every invalid_choice error says which choices are valid, for a field in a body and for a
query filter alike; an id outside the caller's rows still names nothing."""

import importlib

import pytest
from django.apps import apps
from rest_framework import serializers

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory
from households.tests.factories import make_household
from server import openapi
from server.fields import invalid_choice_message
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

BUDGETS = "/api/v1/budgets/"
TRANSACTIONS = "/api/v1/transactions/"
ORDERINGS = '"date", "-date", "amount", "-amount", "created_at", "-created_at"'


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def friend(owner):
    friend = UserFactory()
    make_household(owner, name="Home", members=[friend])
    return friend


def only_error(response, attr: str) -> str:
    body = assert_error(response, 400, "invalid_choice", attr)
    assert [(e["code"], e["attr"]) for e in body["errors"]] == [("invalid_choice", attr)], body
    return body["errors"][0]["detail"]


def test_a_share_level_names_the_valid_ones(client_for, owner, friend):
    budget = BudgetFactory(owner=owner)

    response = client_for(owner).put(
        f"{BUDGETS}{budget.pk}/shares/users/{friend.pk}/", {"permission": "change"}, format="json"
    )

    assert (
        only_error(response, "permission") == '"change" is not a valid choice. Valid choices: "view", "edit".'
    )


def test_a_transaction_kind_names_the_valid_ones(client_for, owner):
    budget = BudgetFactory(owner=owner)
    body = {"budget": budget.pk, "kind": "spend", "amount": "1.00", "date": "2026-01-02"}

    response = client_for(owner).post(TRANSACTIONS, body, format="json")

    assert (
        only_error(response, "kind") == '"spend" is not a valid choice. Valid choices: "expense", "income".'
    )


def test_a_bulk_items_kind_names_the_valid_ones(client_for, owner):
    budget = BudgetFactory(owner=owner)
    good = {"budget": budget.pk, "kind": "expense", "amount": "1.00", "date": "2026-01-02"}

    response = client_for(owner).post(f"{TRANSACTIONS}bulk/", [good, {**good, "kind": 7}], format="json")

    assert only_error(response, "1.kind") == '"7" is not a valid choice. Valid choices: "expense", "income".'


def test_a_members_role_names_the_valid_ones(client_for, owner, friend):
    household = owner.memberships.get().household

    response = client_for(owner).patch(
        f"/api/v1/households/{household.pk}/members/{friend.pk}/", {"role": "emperor"}, format="json"
    )

    assert only_error(response, "role") == (
        '"emperor" is not a valid choice. Valid choices: "owner", "admin", "member".'
    )


def test_an_invitations_role_names_the_valid_ones(client_for, owner, friend):
    household = owner.memberships.get().household

    response = client_for(owner).post(
        f"/api/v1/households/{household.pk}/invitations/",
        {"email": "new@example.com", "role": "owner"},
        format="json",
    )

    assert only_error(response, "role") == '"owner" is not a valid choice. Valid choices: "admin", "member".'


def test_a_long_list_of_choices_is_cut_short(client_for, owner):
    body = {
        "name": "Trip",
        "amount": "1.00",
        "currency": "XXX",
        "period": "monthly",
        "start_date": "2026-01-01",
    }

    detail = only_error(client_for(owner).post(BUDGETS, body, format="json"), "currency")

    assert detail.startswith('"XXX" is not a valid choice. Valid choices: "AED", "AFN", ')
    assert detail.endswith(", ... (165 in all, every one in the OpenAPI schema).")
    assert detail.count('", "') == 19


@pytest.mark.parametrize(
    ("url", "params", "attr", "detail"),
    [
        (
            TRANSACTIONS,
            {"kind": "bogus"},
            "kind",
            '"bogus" is not a valid choice. Valid choices: "expense", "income".',
        ),
        (
            TRANSACTIONS,
            {"ordering": "date,bogus"},
            "ordering",
            f'"bogus" is not a valid choice. Valid choices: {ORDERINGS}.',
        ),
        (
            f"{TRANSACTIONS}export/",
            {"kind": "x"},
            "kind",
            '"x" is not a valid choice. Valid choices: "expense", "income".',
        ),
        (
            BUDGETS,
            {"owned": "maybe"},
            "owned",
            '"maybe" is not a valid choice. Valid choices: "true", "false".',
        ),
        (
            BUDGETS,
            {"ordering": "size"},
            "ordering",
            '"size" is not a valid choice. Valid choices: "name", "-name", "created_at", "-created_at", '
            '"amount", "-amount".',
        ),
    ],
)
def test_a_filter_value_outside_its_choices_names_the_valid_ones(
    client_for, owner, url, params, attr, detail
):
    assert only_error(client_for(owner).get(url, params), attr) == detail


@pytest.mark.parametrize(("url", "attr"), [(TRANSACTIONS, "budget"), (BUDGETS, "shared_with_household")])
def test_an_id_outside_the_callers_rows_lists_nothing(client_for, owner, url, attr):
    stranger = UserFactory()
    foreign = BudgetFactory(owner=stranger) if attr == "budget" else make_household(stranger)

    detail = only_error(client_for(owner).get(url, {attr: foreign.pk}), attr)

    assert detail == "Select a valid choice. That choice is not one of the available choices."


def test_the_message_lists_each_choice_once_in_order():
    assert (
        invalid_choice_message("x", ["b", "a", "b"]) == '"x" is not a valid choice. Valid choices: "b", "a".'
    )


def _fields(field):
    """A field and every field inside it (a list's child, a nested serializer's fields)."""
    yield field
    if getattr(field, "child", None) is not None:
        yield from _fields(field.child)
    if isinstance(field, serializers.BaseSerializer) and hasattr(field, "fields"):
        for nested in field.fields.values():
            yield from _fields(nested)


# The error bodies' schemas (a household's 409 with its balances subclasses one): answers the
# API gives, never fields a client sends.
ERROR_RESPONSES = tuple(
    value
    for name, value in vars(openapi).items()
    if name.startswith("ErrorResponse") and isinstance(value, type)
)


def _project_serializers():
    for config in apps.get_app_configs():
        if config.name not in {"accounts", "households", "budgets", "transactions"}:
            continue
        for name in ("serializers", "grants.serializers", "csv_io"):
            try:
                module = importlib.import_module(f"{config.name}.{name}")
            except ModuleNotFoundError:
                continue
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, serializers.Serializer)
                    and value.__module__ == module.__name__
                    and not issubclass(value, ERROR_RESPONSES)
                ):
                    yield value


def test_every_choice_a_client_sends_is_the_field_that_lists_the_valid_ones():
    found = list(_project_serializers())
    plain = [
        f"{cls.__module__}.{cls.__name__}.{field.field_name or field.parent.field_name}"
        for cls in found
        for top in cls().fields.values()
        for field in _fields(top)
        if type(field) in (serializers.ChoiceField, serializers.MultipleChoiceField) and not top.read_only
    ]

    assert len(found) > 20  # the scan reaches the serializers
    assert plain == []
