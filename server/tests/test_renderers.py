"""The API's JSON renderer (orjson, server/renderers.py) writes DRF's bytes."""

import datetime
import decimal
import uuid
from collections import namedtuple

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DRFRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from server.renderers import JSONRenderer
from transactions.tests.factories import TransactionFactory

Pair = namedtuple("Pair", "left right")

SAMPLES = {
    "nested": {"a": [1, 2, {"b": None, "c": True, "d": False}], "é": "naïve ☃ 😀", "": ""},
    "separators in text": {"line": "a\u2028b\u2029c", "quotes": 'say "hi"\\ \n\t\x00\x1f'},
    "error detail": {"errors": [{"code": "invalid", "detail": ErrorDetail("Bad.", code="invalid")}]},
    "lazy text": {"message": gettext_lazy("This field is required.")},
    "times": {
        "at": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        "naive": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "on": datetime.date(2026, 1, 2),
        "time": datetime.time(3, 4, 5, 6000),
        "span": datetime.timedelta(days=1, seconds=5),
    },
    "money and ids": {"amount": decimal.Decimal("12.30"), "id": uuid.UUID(int=7), "big": 2**63 - 1},
    "drf containers": ReturnDict({"results": ReturnList([1, 2], serializer=None)}, serializer=None),
    "tuples": {"pair": Pair(1, "x"), "plain": (1, 2), "set": frozenset([3])},
    "int keys": {1: "one", 2: {3: "three"}},
    "beyond 64 bits": {"n": 2**70},
    "top-level list": [1, "two", None],
    "top-level text": "ok",
}


@pytest.mark.parametrize("data", SAMPLES.values(), ids=SAMPLES.keys())
def test_the_bytes_are_drfs(data):
    assert JSONRenderer().render(data) == DRFRenderer().render(data)


def test_none_is_an_empty_body_and_indent_is_drfs():
    assert JSONRenderer().render(None) == b""
    wanted = "application/json; indent=4"
    assert JSONRenderer().render({"a": [1]}, wanted) == DRFRenderer().render({"a": [1]}, wanted)
    assert b"\n    " in JSONRenderer().render({"a": [1]}, wanted)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["list", "retrieve", "error"])
def test_the_apis_answers_are_drfs_bytes(client_for, path):
    tx = TransactionFactory(payee="Café \u2028", notes="naïve")
    client = client_for(tx.budget.owner)
    url = {
        "list": "/api/v1/transactions/",
        "retrieve": f"/api/v1/transactions/{tx.pk}/",
        "error": "/api/v1/transactions/?kind=gift",
    }[path]
    response = client.get(url)
    assert response.status_code == (400 if path == "error" else 200)
    assert response.content == DRFRenderer().render(response.data)
    assert b"\\u2028" in response.content or path == "error"
