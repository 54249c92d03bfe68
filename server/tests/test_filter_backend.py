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


@pytest.fixture
def form_fields(monkeypatch):
    """The fields of each form the request's TransactionFilter built."""
    seen = []
    original = TransactionFilter.get_form_class

    def recording(self):
        form_class = original(self)
        seen.append(sorted(form_class.base_fields))
        return form_class

    monkeypatch.setattr(TransactionFilter, "get_form_class", recording)
    return seen


def test_the_form_holds_only_the_filters_the_request_names(api, form_fields):
    response = api.get(LIST + "?limit=5&kind=expense&date_after=2026-01-01&other=1&search=")
    assert response.status_code == 200
    assert form_fields == [["date_after", "kind", "search"]]


def test_every_named_filter_is_still_checked(api, form_fields):
    response = api.get(LIST + "?kind=expense&date_before=yesterday&amount_min=-1")
    assert response.status_code == 400
    assert sorted(error["attr"] for error in response.json()["errors"]) == ["amount_min", "date_before"]
