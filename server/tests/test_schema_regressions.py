"""Schema defects found by schemathesis run as two peers against a live server: each request
that showed one, and its answer checked against the schema."""

import pytest

from budgets.tests.factories import CategoryFactory
from server.tests.openapi_helpers import api_schema, assert_documented

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/categories/", "/api/v1/transactions/", "/api/v1/budgets/"])
def test_a_nul_in_an_id_filter_is_a_documented_400(api, path):
    name = "shared_with_household" if path == "/api/v1/budgets/" else "budget"
    response = api.get(path, {name: "\x00"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "null_characters_not_allowed"
    assert_documented(response, "get", path)


@pytest.mark.parametrize("items", [[None], ["x", 3]])
def test_a_bulk_item_that_is_not_an_object_is_a_documented_400(api, items):
    response = api.post("/api/v1/transactions/bulk/", items, format="json")
    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} <= {"0", "0.non_field_errors", "1.non_field_errors"}
    assert_documented(response, "post", "/api/v1/transactions/bulk/")


def test_a_categorys_budget_is_not_part_of_a_change(client_for):
    """PATCH categories/{id}/ used to document ``budget`` as writable (an integer) and then
    ignore whatever was sent; the change's schema now has no budget, and one sent is not read."""
    request = api_schema().raw_schema["paths"]["/api/v1/categories/{id}/"]["patch"]["requestBody"]
    ref = request["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "budget" not in api_schema().raw_schema["components"]["schemas"][ref]["properties"]
    category = CategoryFactory()
    home = category.budget_id
    other = CategoryFactory(budget__owner=category.budget.owner)
    response = client_for(category.budget.owner).patch(
        f"/api/v1/categories/{category.pk}/", {"budget": other.budget_id, "name": "Kept"}, format="json"
    )
    assert response.status_code == 200 and response.json()["budget"] == home
    category.refresh_from_db()
    assert (category.budget_id, category.name) == (home, "Kept")


@pytest.mark.parametrize("shares", [None, [{"user": 1}] * 101])
@pytest.mark.parametrize("path", ["/api/v1/transactions/", "/api/v1/transactions/bulk/"])
def test_a_null_or_too_long_share_list_is_a_documented_400(api, path, shares):
    """The split's share list refused by DRF's ListSerializer itself: "null" at split.shares and
    "max_length" at split.shares.non_field_errors (the deep run found the first undocumented)."""
    item = {"budget": 1, "kind": "expense", "amount": "1.00", "date": "2026-01-01"}
    item["split"] = {"household": 1, "paid_by": 1, "mode": "exact", "shares": shares}
    bulk = path.endswith("bulk/")
    response = api.post(path, [item] if bulk else item, format="json")
    assert response.status_code == 400
    codes = {(e["attr"].removeprefix("0."), e["code"]) for e in response.json()["errors"]}
    expected = ("split.shares", "null") if shares is None else ("split.shares.non_field_errors", "max_length")
    assert expected in codes
    assert_documented(response, "post", path)


_HISTORY_QUERIES = [
    {"cursor": "\x00"},
    {"cursor": "\n"},
    {"cursor": " ", "since": " ", "actor": " ", "object_type": " ", "limit": " "},
    {"object_type": "\x00"},
    {"since": "\x00"},
    {"until": "9999-12-31T23:59:59-23:00"},
    {"since": "0001-01-01T00:00:00+23:00"},
    {"actor": "\x00"},
    {"limit": "\x00"},
]


@pytest.mark.parametrize("query", _HISTORY_QUERIES, ids=lambda q: repr(q))
@pytest.mark.parametrize("route", ["budgets", "categories", "transactions", "activity"])
def test_an_unreadable_history_query_is_a_documented_400(client_for, route, query):
    """The deep run found a NUL in ``cursor`` answered with an undocumented code; a time past
    the calendar's ends is another ("overflow"). (A lone surrogate cannot reach a query: the
    decoding of the URL replaces it.)"""
    from households.tests.factories import make_household
    from transactions.tests.factories import TransactionFactory

    tx = TransactionFactory()
    owner = tx.budget.owner
    paths = {
        "budgets": "/api/v1/budgets/{id}/history/",
        "categories": "/api/v1/categories/{id}/history/",
        "transactions": "/api/v1/transactions/{id}/history/",
        "activity": "/api/v1/households/{id}/activity/",
    }
    ids = {
        "budgets": tx.budget_id,
        "categories": CategoryFactory(budget=tx.budget).pk,
        "transactions": tx.pk,
        "activity": make_household(owner).pk if route == "activity" else None,
    }
    response = client_for(owner).get(paths[route].format(id=ids[route]), query)
    assert response.status_code in (200, 400), response.content
    assert_documented(response, "get", paths[route])


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "\x00"},
        {"cursor": "x" * 300},
        {"cursor": "\n"},
        {"date_after": "\x00"},
        {"last_knowledge_of_server": "\x00"},
        {"search": "\x00"},
    ],
    ids=repr,
)
def test_an_unreadable_list_parameter_is_a_documented_400(api, query):
    response = api.get("/api/v1/transactions/", query)
    assert response.status_code == 400, response.content
    assert_documented(response, "get", "/api/v1/transactions/")


def _integer_query_parameters():
    """(path, name) of every integer query parameter of a GET in the schema."""
    found = []
    for path, operations in api_schema().raw_schema["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"].get("type") == "integer":
                found.append((path, parameter["name"]))
    return found


@pytest.mark.parametrize("spelling", ["{}.0", " {}", "{} ", "+{}", "{}_0"])
@pytest.mark.parametrize(("path", "name"), _integer_query_parameters())
def test_an_integer_query_parameter_is_digits_only(client_for, path, name, spelling):
    """The deep run found changes/ answering last_knowledge_of_server=0.0 (DRF's and Django's
    integer fields strip ".0"; int() also takes " 1", "+1" and "1_0"). The schema's integer
    is digits: the same value written so is a 200, any other spelling a documented 400."""
    from django.contrib.auth.models import Permission

    from households.tests.factories import make_household
    from transactions.tests.factories import TransactionFactory

    tx = TransactionFactory()
    owner = tx.budget.owner
    owner.is_staff = True  # the grants API's staff, holding budgets.manage_grants
    owner.save(update_fields=["is_staff"])
    owner.user_permissions.add(Permission.objects.get(codename="manage_grants"))
    household = make_household(owner)
    category = CategoryFactory(budget=tx.budget)
    path_ids = {
        "/api/v1/budgets/": tx.budget_id,
        "/api/v1/categories/": category.pk,
        "/api/v1/transactions/": tx.pk,
        "/api/v1/households/": household.pk,
    }
    url = path
    if "{id}" in path:
        url = path.replace("{id}", str(next(v for k, v in path_ids.items() if path.startswith(k))))
    values = {
        "budget": tx.budget_id,
        "category": category.pk,
        "household": household.pk,
        "shared_with_household": household.pk,
        "limit": 1,
        "offset": 0,
        "last_knowledge_of_server": 0,
    }
    value = values.get(name, owner.pk)  # else a user: actor, member, created_by, user
    extra = {"budget": tx.budget_id} if name == "last_knowledge_of_server" and "{id}" not in path else {}
    api = client_for(owner)
    assert api.get(url, {name: str(value), **extra}).status_code == 200

    response = api.get(url, {name: spelling.format(value), **extra})
    assert response.status_code == 400, response.content
    assert [error["attr"] for error in response.json()["errors"]] == [name]
    assert_documented(response, "get", path)
