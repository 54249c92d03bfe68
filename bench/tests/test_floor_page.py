"""The list's framework floor (bench/views.py) sends the queries the API's paginator sends:
the same page, walked where the API walks (an adviser's unnarrowed or searched list), by
the window where it does not."""

import json

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from bench import views
from transactions.tests.test_walk import adviser, searched  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params",
    [{}, {"ordering": "amount"}, {"search": "rail"}, {"kind": "expense"}, {"amount_min": "0.10"}],
)
def test_the_floor_pages_as_the_api_pages(client_for, searched, params):  # noqa: F811 - a fixture
    with CaptureQueriesContext(connection) as api_queries:
        api = client_for(searched).get("/api/v1/transactions/", {**params, "limit": 50}).json()
    request = RequestFactory().get("/bench/transactions/", {**params, "user": searched.pk, "limit": 50})
    with CaptureQueriesContext(connection) as floor_queries:
        floor = views.transactions(request)
    floor = json.loads(floor.content)
    assert floor["count"] == api["count"]
    assert [row["id"] for row in floor["results"]] == [row["id"] for row in api["results"]]
    walked = ["walk AS MATERIALIZED" in query["sql"] for query in (api_queries[-1], floor_queries[-1])]
    assert (
        walked[0]
        is walked[1]
        is (connection.vendor == "postgresql" and "kind" not in params and "amount_min" not in params)
    ), params
