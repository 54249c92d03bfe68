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


def test_one_form_class_serves_every_caller_and_holds_none(client_for, monkeypatch):
    """The form class is made once per set of filters and shared by every request; its id
    fields know no caller and no rows. Each request's form looks ids up for its own caller:
    one user's category, named by another, is that other's 400 in between two 200s."""
    from budgets.tests.factories import CategoryFactory
    from server.filters import narrowed
    from transactions.tests.factories import TransactionFactory

    mine = TransactionFactory(category=None)
    mine.category = CategoryFactory(budget=mine.budget)
    mine.save()
    stranger_tx = TransactionFactory()
    query = {"category": mine.category_id, "kind": "expense"}
    owner, stranger = client_for(mine.budget.owner), client_for(stranger_tx.budget.owner)
    classes = []
    original = TransactionFilter.get_form_class
    monkeypatch.setattr(
        TransactionFilter, "get_form_class", lambda self: classes.append(original(self)) or classes[-1]
    )

    assert [row["id"] for row in owner.get(LIST, query).json()["results"]] == [mine.pk]
    refused = stranger.get(LIST, query)
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "invalid_choice"
    assert [row["id"] for row in owner.get(LIST, query).json()["results"]] == [mine.pk]

    shared = narrowed(TransactionFilter, frozenset({"category", "kind"})).shared_form_class()
    assert classes == [shared] * 3
    category = shared.base_fields["category"]
    assert category.scoped[1] is None
    assert not category.queryset.exists()


@pytest.fixture
def listed(monkeypatch):
    """What the transaction list's paginator was handed (server.filters.FilteredLater)."""
    from transactions.pagination import TransactionPagination

    seen = []
    original = TransactionPagination.paginate_queryset

    def recording(self, queryset, request, view=None):
        seen.append(queryset)
        return original(self, queryset, request, view)

    monkeypatch.setattr(TransactionPagination, "paginate_queryset", recording)
    return seen


@pytest.mark.parametrize(
    "ordering",
    ["", "date", "-date", "amount", "-amount", "created_at", "-created_at", "-amount,date", "-date,", ","],
)
def test_the_order_told_without_the_queryset_is_the_querysets(api, listed, ordering):
    """The paginator takes the order from the filters, without building the queryset; it is
    the filtered queryset's own, ties broken by id in the last field's direction."""
    from transactions.models import Transaction

    assert api.get(LIST, {"ordering": ordering, "kind": "expense"}).status_code == 200
    (given,) = listed
    order = tuple(given.queryset.query.order_by) or tuple(Transaction._meta.ordering)
    assert given.order == order
    assert order[-1] == ("-id" if order[-2].startswith("-") else "id")


def test_the_queryset_read_later_is_the_callers_filtered(user, client_for, listed):
    from transactions.tests.factories import TransactionFactory

    mine = [TransactionFactory(budget__owner=user, kind=kind) for kind in ("expense", "income", "expense")]
    TransactionFactory(kind="expense")  # someone else's
    assert client_for(user).get(LIST, {"kind": "expense"}).status_code == 200
    (given,) = listed
    expected = {row.pk for row in mine if row.kind == "expense"}
    assert set(given.queryset.values_list("pk", flat=True)) == expected
    # Unfiltered: the caller's rows, all of them.
    listed.clear()
    assert client_for(user).get(LIST).status_code == 200
    (given,) = listed
    assert given.filterset is None
    assert set(given.queryset.values_list("pk", flat=True)) == {row.pk for row in mine}


def test_compiled_pages_never_build_the_queryset(user, client_for, listed):
    """On PostgreSQL a list by compiled filters (and an unfiltered one) sends only statements
    compiled once, and the scoped, filtered queryset is never built; SQLite pages through it."""
    from django.db import connection

    from transactions.tests.factories import TransactionFactory

    first = TransactionFactory(budget__owner=user, kind="expense", date="2026-02-01")
    TransactionFactory(budget__owner=user, kind="expense", date="2026-02-02")
    query = {"kind": "expense", "date_after": "2026-01-01", "ordering": "-amount"}
    # Two budgets (the window's page), none (the counted page), one (its index's page).
    for params, count in ((query, 2), ({}, 2), ({**query, "budget": first.budget_id}, 1)):
        listed.clear()
        response = client_for(user).get(LIST, params)
        assert response.status_code == 200 and response.json()["count"] == count
        (given,) = listed
        if connection.vendor == "postgresql":
            assert "queryset" not in given.__dict__
        else:
            assert "queryset" in given.__dict__
