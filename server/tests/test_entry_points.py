"""Friendly entry points (issue 19): the front door leads to the docs, /api/ and /api/v1/
list where to go, a route called without its trailing slash says so, and a client that
asks only for HTML still gets the API's JSON."""

import pytest

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_the_site_root_redirects_to_the_docs(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"


@pytest.mark.parametrize("path", ["/api/", "/api/v1/"])
def test_the_api_roots_list_where_to_go(anon, path):
    response = anon.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "docs": "http://testserver/api/docs/",
        "schema": "http://testserver/api/schema/",
        "api": "http://testserver/api/v1/",
        "token": "http://testserver/api/v1/auth/token/",
        "health": "http://testserver/api/health/",
    }


@pytest.mark.parametrize(
    ("method", "path", "hint"),
    [
        ("post", "/api/v1/auth/token", "/api/v1/auth/token/"),
        ("get", "/api/v1/budgets", "/api/v1/budgets/"),
        ("get", "/api/v1/budgets/12", "/api/v1/budgets/12/"),
        ("get", "/api/health", "/api/health/"),
    ],
)
def test_a_route_without_its_trailing_slash_is_a_404_naming_it(anon, method, path, hint):
    response = getattr(anon, method)(path)
    assert_error(response, 404, "not_found")
    assert (
        response.json()["errors"][0]["detail"] == f"Not found. Did you mean {hint} (with the trailing slash)?"
    )


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/nothing-here/", "/api/v2/budgets"])
def test_an_unknown_path_is_a_plain_404(anon, path):
    response = anon.get(path)
    assert_error(response, 404, "not_found")
    assert response.json()["errors"][0]["detail"] == "Not found."


def test_a_hint_names_the_route_never_the_object(client_for):
    """/budgets/<id> hints the same for a budget of someone else's, one of yours and none:
    the answer depends on the URL patterns only."""
    owner, stranger = UserFactory(), UserFactory()
    budget = BudgetFactory(owner=owner)
    answers = {
        who: client_for(user).get(f"/api/v1/budgets/{pk}").json()
        for who, user, pk in [("owner", owner, budget.pk), ("stranger", stranger, budget.pk)]
    }
    missing = client_for(stranger).get(f"/api/v1/budgets/{budget.pk + 1000}").json()
    assert answers["owner"] == answers["stranger"]
    assert (
        missing["errors"][0]["detail"].replace(str(budget.pk + 1000), str(budget.pk))
        == answers["owner"]["errors"][0]["detail"]
    )


def test_asking_only_for_html_still_gets_json(client_for):
    owner = UserFactory()
    BudgetFactory(owner=owner)
    response = client_for(owner).get("/api/v1/budgets/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["count"] == 1
    refused = client_for(owner).get("/api/v1/budgets/999999/", HTTP_ACCEPT="text/html")
    assert_error(refused, 404, "not_found")
