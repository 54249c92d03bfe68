"""Versions, ETags and If-Match (server/conditional.py, server/versioning.py): every write
path bumps the version, every answer that is one object carries its ETag, and PUT, PATCH
and DELETE honour If-Match exactly as RFC 9110 section 13.1.1 says (strong comparison)."""

from dataclasses import dataclass

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from budgets import services as budget_services
from budgets.models import Budget, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_user
from households.models import Household
from households.tests.factories import make_household
from server.conditional import NO_PRECONDITION, PreconditionFailed, parse_if_match
from server.tests.helpers import MigrationEditor, assert_error
from server.versioning import (
    ConcurrentChange,
    installed_parent_triggers,
    installed_version_triggers,
    save_fields,
)
from transactions import counting
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

VERSIONED_TABLES = (
    "budgets_budget",
    "budgets_category",
    "transactions_transaction",
    "households_household",
    "households_membership",
)
# Rows whose changes are new versions of the row they belong to (server/versioning.py).
PARENT_VERSIONED_TABLES = (
    "households_membership",
    "budgets_budgetuserobjectpermission",
    "budgets_budgetgroupobjectpermission",
)


@dataclass
class Kind:
    """One versioned resource: its route, a change the owner may PATCH, and how to make one."""

    route: str
    patch: dict
    model: type

    def url(self, obj) -> str:
        return f"/api/v1/{self.route}/{obj.pk}/"


KINDS = {
    "budget": Kind("budgets", {"name": "Renamed"}, Budget),
    "category": Kind("categories", {"name": "Renamed"}, Category),
    "transaction": Kind("transactions", {"notes": "changed"}, Transaction),
    "household": Kind("households", {"name": "Renamed"}, Household),
}


@pytest.fixture
def owner():
    return UserFactory()


def make(kind: str, owner):
    if kind == "household":
        return make_household(owner, name="Home")
    budget = BudgetFactory(owner=owner)
    if kind == "budget":
        return budget
    if kind == "category":
        return CategoryFactory(budget=budget, name="Food")
    return TransactionFactory(budget=budget)


def etag(obj) -> str:
    obj.refresh_from_db()
    return f'"{obj.pk}-{obj.version}"'


def test_every_versioned_table_has_its_trigger():
    assert installed_version_triggers(connection, *VERSIONED_TABLES) == set(VERSIONED_TABLES)
    assert installed_parent_triggers(connection, *PARENT_VERSIONED_TABLES) == set(PARENT_VERSIONED_TABLES)


def test_every_write_path_bumps_the_version(owner, client_for):
    """The trigger, not the services, keeps the version: a service write, a QuerySet.update,
    a plain save (the admin's way) and a cascade's SET_NULL each make a new version."""
    budget = BudgetFactory(owner=owner)
    food = CategoryFactory(budget=budget, name="Food")
    tx = TransactionFactory(budget=budget, category=food)
    assert (budget.version, food.version, tx.version) == (1, 1, 1)

    budget_services.budget_update(budget=budget, actor=owner, name="Renamed")
    Budget.objects.filter(pk=budget.pk).update(amount_minor=1)
    budget.refresh_from_db()
    assert budget.version == 3
    tx.refresh_from_db()
    tx.save()
    tx.refresh_from_db()
    assert tx.version == 2

    assert client_for(owner).delete(f"/api/v1/categories/{food.pk}/").status_code == 204
    tx.refresh_from_db()
    assert (tx.category_id, tx.version) == (None, 3)  # nulled by the category's deletion

    household = make_household(owner, name="Home")
    membership = household.memberships.get()
    membership.role = "owner"
    membership.save(update_fields=["role"])
    membership.refresh_from_db()
    assert membership.version == 2


@pytest.mark.parametrize("kind", KINDS)
def test_one_object_answers_carry_its_etag_and_version(kind, owner, client_for):
    obj = make(kind, owner)
    api = client_for(owner)

    read = api.get(KINDS[kind].url(obj))
    assert read.status_code == 200
    assert read["ETag"] == f'"{obj.pk}-1"'
    assert read.json()["version"] == 1

    changed = api.patch(KINDS[kind].url(obj), KINDS[kind].patch)
    assert changed.status_code == 200
    assert changed["ETag"] == f'"{obj.pk}-2"' == etag(obj)
    assert changed.json()["version"] == 2


def test_lists_carry_each_items_version(owner, client_for):
    TransactionFactory(budget=BudgetFactory(owner=owner))
    response = client_for(owner).get("/api/v1/transactions/")
    assert response.status_code == 200
    assert [row["version"] for row in response.json()["results"]] == [1]


def test_a_create_answers_with_the_new_objects_etag(owner, client_for):
    budget = BudgetFactory(owner=owner)
    response = client_for(owner).post(
        "/api/v1/transactions/",
        {"budget": budget.pk, "kind": "expense", "amount": "1.00", "date": "2026-01-02"},
    )
    assert response.status_code == 201
    assert response["ETag"] == f'"{response.json()["id"]}-1"'


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "if_match",
    ["current", "*", "listed", "weak", "stale", "other-object"],
)
def test_patch_lands_only_when_if_match_matches(kind, if_match, owner, client_for):
    obj = make(kind, owner)
    current = etag(obj)
    header = {
        "current": current,
        "*": "*",
        "listed": f'"{obj.pk}-7", {current}',
        "weak": f"W/{current}",
        "stale": f'"{obj.pk}-0"',
        "other-object": f'"{obj.pk + 1}-1"',
    }[if_match]
    before = KINDS[kind].model.objects.filter(pk=obj.pk).values().get()

    response = client_for(owner).patch(KINDS[kind].url(obj), KINDS[kind].patch, HTTP_IF_MATCH=header)

    if if_match in ("current", "*", "listed"):
        assert response.status_code == 200, response.json()
        assert etag(obj) == f'"{obj.pk}-2"'
    else:
        assert_error(response, 412, "precondition_failed")
        assert response["ETag"] == current
        assert KINDS[kind].model.objects.filter(pk=obj.pk).values().get() == before


@pytest.mark.parametrize("kind", KINDS)
def test_delete_with_a_stale_tag_writes_nothing_and_with_the_current_one_deletes(kind, owner, client_for):
    obj = make(kind, owner)
    api = client_for(owner)
    stale = etag(obj)
    assert api.patch(KINDS[kind].url(obj), KINDS[kind].patch).status_code == 200

    refused = api.delete(KINDS[kind].url(obj), HTTP_IF_MATCH=stale)
    assert_error(refused, 412, "precondition_failed")
    assert refused["ETag"] == etag(obj)
    assert KINDS[kind].model.objects.filter(pk=obj.pk).exists()

    assert api.delete(KINDS[kind].url(obj), HTTP_IF_MATCH=etag(obj)).status_code == 204
    assert not KINDS[kind].model.objects.filter(pk=obj.pk).exists()


def test_put_honours_if_match_too(owner, client_for):
    tx = TransactionFactory(budget=BudgetFactory(owner=owner))
    body = {"budget": tx.budget_id, "kind": "income", "amount": "5.00", "date": "2026-02-01"}
    api = client_for(owner)
    assert_error(api.put(f"/api/v1/transactions/{tx.pk}/", body, HTTP_IF_MATCH=f'"{tx.pk}-9"'), 412)
    assert api.put(f"/api/v1/transactions/{tx.pk}/", body, HTTP_IF_MATCH=etag(tx)).status_code == 200


@pytest.mark.parametrize(
    "header", ["12-1", '"12-1" "13-1"', "W/", '"a"b"', "**", '"tab\tinside"', ",", "", '"1-1",*']
)
def test_a_malformed_if_match_is_a_400(header, owner, client_for):
    tx = TransactionFactory(budget=BudgetFactory(owner=owner))
    response = client_for(owner).patch(f"/api/v1/transactions/{tx.pk}/", {"notes": "x"}, HTTP_IF_MATCH=header)
    assert_error(response, 400, "invalid_if_match")
    tx.refresh_from_db()
    assert (tx.notes, tx.version) == ("", 1)


def test_parsing_follows_the_entity_tag_grammar():
    assert parse_if_match("*").any
    assert parse_if_match(' "1-2" , W/"1-3",,"x"').tags == frozenset({'"1-2"', '"x"'})
    assert parse_if_match('""').tags == frozenset({'""'})
    assert not parse_if_match('W/"1-1"').tags  # weak tags never match by strong comparison


def test_a_bad_body_is_a_400_whatever_the_tag(owner, client_for):
    """The normal request checks come first (RFC 9110 section 13.2.2): a body that fails
    validation is refused as such, with a stale tag too, and nothing is written."""
    budget = BudgetFactory(owner=owner)
    response = client_for(owner).patch(
        f"/api/v1/budgets/{budget.pk}/", {"amount": "not money"}, HTTP_IF_MATCH=f'"{budget.pk}-5"'
    )
    assert_error(response, 400, attr="amount")
    assert etag(budget) == f'"{budget.pk}-1"'


def test_a_precondition_never_outranks_404_or_403(owner, client_for):
    """A stale tag tells nothing to a caller who may not see or change the object."""
    budget = BudgetFactory(owner=owner)
    viewer, stranger = UserFactory(), UserFactory()
    make_household(owner, members=[viewer])
    share_user(budget, viewer, "view")
    stale = {"HTTP_IF_MATCH": f'"{budget.pk}-5"'}
    url = f"/api/v1/budgets/{budget.pk}/"

    assert_error(client_for(stranger).patch(url, {"name": "x"}, **stale), 404)
    assert_error(client_for(viewer).patch(url, {"name": "x"}, **stale), 403)
    assert_error(client_for(viewer).delete(url, **stale), 403)


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_deployment_may_require_if_match(method, owner, client_for, settings):
    settings.REQUIRE_IF_MATCH = True
    tx = TransactionFactory(budget=BudgetFactory(owner=owner))
    body = {"budget": tx.budget_id, "kind": "expense", "amount": "2.00", "date": "2026-02-01"}
    api = client_for(owner)
    url = f"/api/v1/transactions/{tx.pk}/"

    refused = getattr(api, method)(url, body)
    assert_error(refused, 428, "precondition_required")
    assert etag(tx) == f'"{tx.pk}-1"'
    assert getattr(api, method)(url, body, HTTP_IF_MATCH="*").status_code in (200, 204)
    # Found and allowed first: a stranger still gets the 404 of an unknown id.
    assert_error(
        getattr(client_for(UserFactory()), method)(f"/api/v1/transactions/{tx.pk + 1000}/", body), 404
    )


def test_reads_and_creates_need_no_if_match_where_it_is_required(owner, client_for, settings):
    settings.REQUIRE_IF_MATCH = True
    budget = BudgetFactory(owner=owner)
    api = client_for(owner)
    assert api.get(f"/api/v1/budgets/{budget.pk}/").status_code == 200
    assert api.post("/api/v1/categories/", {"budget": budget.pk, "name": "Fuel"}).status_code == 201


def test_the_update_is_conditional_on_the_version_it_read(owner):
    """A writer that does not take the row's lock (the admin, a cascade) may change the row
    between the locked read and the UPDATE: the UPDATE then matches nothing, and the
    request answers 412 if it sent If-Match, 409 otherwise; nothing it sent is written."""
    budget = BudgetFactory(owner=owner, name="Before")
    read = Budget.objects.get(pk=budget.pk)
    Budget.objects.filter(pk=budget.pk).update(amount_minor=99)  # the lock-free writer
    read.name = "Mine"

    with pytest.raises(PreconditionFailed) as failed:
        save_fields(read, ["name"], precondition=parse_if_match(f'"{budget.pk}-1"'))
    assert failed.value.etag == f'"{budget.pk}-2"'
    with pytest.raises(ConcurrentChange):
        save_fields(read, ["name"], precondition=NO_PRECONDITION)
    assert Budget.objects.get(pk=budget.pk).name == "Before"

    read.refresh_from_db()
    read.name = "Mine"
    save_fields(read, ["name"], precondition=parse_if_match("*"))
    assert (read.version, Budget.objects.get(pk=budget.pk).name) == (3, "Mine")


def test_the_version_migration_puts_the_count_triggers_back_after_sqlites_table_rebuild():
    """Adding the version column rebuilds transactions_transaction on SQLite, which drops its
    triggers; the migration's step reinstalls them (and does nothing on PostgreSQL)."""
    if connection.vendor == "sqlite":
        counting.uninstall(None, MigrationEditor())
        assert counting.installed_triggers(connection) == set()
    counting.reinstall_on_sqlite(None, MigrationEditor())
    assert counting.installed_triggers(connection) == set(counting.TRIGGERS)
