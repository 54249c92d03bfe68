"""transactions/ and the budget reports answer what the OpenAPI schema says they answer:
regressions for the defects schemathesis found (server/tests/test_schemathesis.py)."""

import pytest

from server.tests.helpers import assert_error
from server.tests.openapi_helpers import api_schema, assert_documented
from transactions.tests.helpers import (
    BULK,
    EXPORT,
    IMPORT,
    IMPORT_HEADER,
    LIST,
    db_state,
    detail_url,
    import_csv,
    missing_budget_id,
    payload,
    report_url,
    summary_url,
)

pytestmark = pytest.mark.django_db

DETAIL = "/api/v1/transactions/{id}/"
SUMMARY = "/api/v1/budgets/{id}/summary/"
REPORT = "/api/v1/budgets/{id}/report/monthly/"


# --- single writes ---------------------------------------------------------------------


def test_empty_amount_is_documented(world, as_):
    """Found by schemathesis: an empty amount's "blank" was missing from the 400's codes."""
    before = db_state()
    response = as_("owner").post(LIST, payload(world.budget, amount=""), format="json")
    assert_error(response, 400, code="blank", attr="amount")
    assert db_state() == before
    assert_documented(response, "post", LIST)


@pytest.mark.parametrize("field", ["payee", "description", "notes"])
def test_text_fields_are_taken_only_as_strings(world, as_, field):
    before = db_state()
    response = as_("owner").post(LIST, payload(world.budget, **{field: 42}), format="json")
    assert_error(response, 400, code="invalid", attr=field)
    assert db_state() == before
    assert_documented(response, "post", LIST)


def test_category_of_another_budget_is_documented(world, as_):
    other = as_("owner").post(
        "/api/v1/budgets/",
        {
            "name": "Other",
            "amount": "10.00",
            "currency": "EUR",
            "period": "monthly",
            "start_date": "2026-01-01",
        },
    )
    assert other.status_code == 201
    before = db_state()
    response = as_("owner").post(
        LIST, payload(world.budget, category=world.food.pk, budget=other.json()["id"])
    )
    assert_error(response, 400, code="category_budget_mismatch", attr="category")
    assert db_state() == before
    assert_documented(response, "post", LIST)


def test_moving_to_a_budget_in_another_currency_without_the_amount_is_documented(world, as_):
    yen = as_("owner").post(
        "/api/v1/budgets/",
        {"name": "Yen", "amount": "1000", "currency": "JPY", "period": "monthly", "start_date": "2026-01-01"},
    )
    before = db_state()
    response = as_("owner").patch(
        detail_url(world.groceries.pk), {"budget": yen.json()["id"], "category": None}
    )
    assert_error(response, 400, code="required", attr="amount")
    assert db_state() == before
    assert_documented(response, "patch", DETAIL)


# --- bulk ------------------------------------------------------------------------------


def test_bulk_item_errors_are_documented_with_their_index(world, as_):
    """Found by schemathesis: item errors say "0.budget"; the schema only knew "INDEX.budget"."""
    before = db_state()
    items = [payload(world.budget), payload(world.budget, budget=missing_budget_id(), amount="")]
    response = as_("owner").post(BULK, items, format="json")
    body = assert_error(response, 400)
    assert {(e["attr"], e["code"]) for e in body["errors"]} == {
        ("1.budget", "does_not_exist"),
        ("1.amount", "blank"),
    }
    assert db_state() == before
    assert_documented(response, "post", BULK)


@pytest.mark.parametrize(("data", "code"), [({"budget": 1}, "not_a_list"), ([], "empty")])
def test_bulk_body_errors_are_documented_with_a_null_attr(world, as_, data, code):
    response = as_("owner").post(BULK, data, format="json")
    assert_error(response, 400, code=code, attr=None)
    assert_documented(response, "post", BULK)


# --- import ----------------------------------------------------------------------------


def test_import_into_an_unknown_budget_is_documented(world, as_):
    """Found by schemathesis: the import's validation errors were missing from its schema (its
    request was declared as a bare multipart dict, which the error schema did not read)."""
    before = db_state()
    response = import_csv(as_("owner"), missing_budget_id(), IMPORT_HEADER)
    body = assert_error(response, 400, code="does_not_exist", attr="budget")
    assert body["type"] == "validation_error"
    assert db_state() == before
    assert_documented(response, "post", IMPORT)


def test_import_row_errors_are_documented_by_line(world, as_):
    content = IMPORT_HEADER + (
        "2026-01-05,1.00,expense,Nope,Shop,,\n"  # line 2: a category the budget does not have
        "2026-02-30,abc,refund,,A,,\n"  # line 3: three bad cells
        "2026-01-05,1\n"  # line 4: too few cells
    )
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, content)
    body = assert_error(response, 400)
    assert {(e["attr"], e["code"]) for e in body["errors"]} == {
        ("2.category", "unknown_category"),
        ("3.date", "invalid"),
        ("3.kind", "invalid_choice"),
        ("3.amount", "invalid"),
        ("4", "invalid_row"),
    }
    assert db_state() == before
    assert_documented(response, "post", IMPORT)


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"PK\x03\x04rest", "not_csv"), (b"date,amount\xff\n", "invalid_encoding"), ("a,b\n", "invalid_header")],
)
def test_import_file_refusals_are_documented(world, as_, content, code):
    response = import_csv(as_("owner"), world.budget.pk, content)
    body = assert_error(response, 400, code=code, attr=None)
    assert body["type"] == "client_error"
    assert_documented(response, "post", IMPORT)


def test_import_over_5_mb_is_a_documented_413(world, as_):
    response = import_csv(as_("owner"), world.budget.pk, IMPORT_HEADER + "x" * (6 * 1024 * 1024))
    assert_error(response, 413, code="file_too_large", attr=None)
    assert_documented(response, "post", IMPORT)


# --- list, summary and report query parameters -----------------------------------------


def test_empty_filters_are_documented_as_left_out(world, as_):
    """Found by schemathesis: ?kind=&date_before= is served as if left out, which the schema
    (an enum and a date) did not allow."""
    client = as_("owner")
    response = client.get(LIST, {"kind": "", "date_before": "", "limit": "", "offset": ""})
    assert response.status_code == 200
    assert response.json() == client.get(LIST).json()
    assert_documented(response, "get", LIST)
    parameters = api_schema().raw_schema["paths"][LIST]["get"]["parameters"]
    assert all(p["allowEmptyValue"] for p in parameters if p["in"] == "query")


def test_summary_with_an_empty_date_is_todays_and_documented(world, as_):
    """Found by schemathesis: ?date= is served as today's period; the schema said a date."""
    client = as_("owner")
    response = client.get(summary_url(world.budget.pk), {"date": ""})
    assert response.status_code == 200
    assert response.json() == client.get(summary_url(world.budget.pk)).json()
    assert_documented(response, "get", SUMMARY)


def test_summary_refusals_are_documented(world, as_):
    response = as_("owner").get(summary_url(world.budget.pk), {"date": "9999-12-31"})
    assert_error(response, 400, code="out_of_range", attr="date")
    assert_documented(response, "get", SUMMARY)
    response = as_("owner").get(summary_url(world.budget.pk), {"date": "someday"})
    assert_error(response, 400, code="invalid", attr="date")
    assert_documented(response, "get", SUMMARY)


def test_report_with_empty_months_is_the_default_report(world, as_):
    client = as_("owner")
    response = client.get(report_url(world.budget.pk), {"from": "", "to": ""})
    assert response.status_code == 200
    assert response.json() == client.get(report_url(world.budget.pk)).json()
    assert_documented(response, "get", REPORT)


@pytest.mark.parametrize(
    ("query", "code", "attr"),
    [
        ({"from": "2026-13"}, "invalid", "from"),
        ({"from": "2026-05", "to": "2026-01"}, "invalid_range", "from"),
        ({"from": "2020-01", "to": "2026-01"}, "range_too_long", "to"),
    ],
)
def test_report_refusals_are_documented(world, as_, query, code, attr):
    response = as_("owner").get(report_url(world.budget.pk), query)
    assert_error(response, 400, code=code, attr=attr)
    assert_documented(response, "get", REPORT)


def test_export_documents_the_filters_it_applies(world, as_):
    """Found by schemathesis: the export reads every filter of the list, but its schema named
    none of them (drf-spectacular only documents filters on list actions). Not the list's
    paging, nor its If-None-Match (a streamed export has no ETag)."""
    paths = api_schema().raw_schema["paths"]
    listed = {p["name"] for p in paths[LIST]["get"]["parameters"] if p["in"] == "query"}
    exported = {p["name"] for p in paths[EXPORT]["get"]["parameters"] if p["in"] == "query"}
    assert exported == listed - {"limit", "offset", "cursor"}
    response = as_("owner").get(EXPORT, {"kind": "gift"})
    assert_error(response, 400, code="invalid_choice", attr="kind")
    assert_documented(response, "get", EXPORT)
