"""The filter backend skips building a filterset when a list request has nothing to filter."""

import pytest

from transactions.filters import TransactionFilter

pytestmark = pytest.mark.django_db

LIST = "/api/v1/transactions/"


@pytest.fixture
def built(monkeypatch):
    """How many TransactionFilter instances the request built."""
    count = []
    original = TransactionFilter.__init__

    def counting(self, *args, **kwargs):
        count.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TransactionFilter, "__init__", counting)
    return count


@pytest.mark.parametrize(
    ("query", "builds"), [("", 0), ("?limit=5&offset=1", 0), ("?kind=", 1), ("?other=1", 1)]
)
def test_only_requests_with_filter_parameters_build_the_filterset(api, built, query, builds):
    assert api.get(LIST + query).status_code == 200
    assert len(built) == builds


def test_a_bad_filter_value_is_still_refused(api):
    response = api.get(LIST + "?limit=5&kind=sideways")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "kind"
