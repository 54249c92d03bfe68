"""Bad input gets the standard error body and writes nothing: never a 500."""

import json

import pytest

from budgets.tests.factories import BudgetFactory, CategoryFactory
from server.tests.helpers import assert_error
from transactions.models import Transaction
from transactions.tests.helpers import (
    BULK,
    EXPORT,
    IMPORT_HEADER,
    LIST,
    db_state,
    detail_url,
    import_csv,
    payload,
    report_url,
    summary_url,
)

pytestmark = pytest.mark.django_db

BAD_AMOUNTS = [
    ("EUR", "NaN", "invalid"),
    ("EUR", "Infinity", "invalid"),
    ("EUR", "-Infinity", "invalid"),
    # Exponent notation: refused as too large, or as not a plain decimal (either is a 400).
    ("EUR", "1e309", ("max_value", "invalid")),
    ("EUR", "1e999999999999999999", ("max_value", "invalid")),
    ("EUR", "1e-999999999999999999", ("max_decimal_places", "invalid")),
    ("EUR", "-5", "min_value"),
    ("EUR", "0", "min_value"),
    ("EUR", "0.00", "min_value"),
    ("EUR", "12.345", "max_decimal_places"),
    ("JPY", "1.5", "max_decimal_places"),
    ("BHD", "1.2345", "max_decimal_places"),
    ("EUR", "1" * 40, "max_value"),
    ("EUR", "1" * 41, "max_length"),
    ("EUR", "twelve", "invalid"),
    ("EUR", 12.3, "invalid"),  # a JSON number is not accepted for money
    ("EUR", None, "null"),
]


def assert_amount_refused(response, code: str | tuple[str, ...]) -> None:
    body = assert_error(response, 400, attr="amount")
    codes = {code} if isinstance(code, str) else set(code)
    assert codes & {e["code"] for e in body["errors"] if e["attr"] == "amount"}, body


@pytest.fixture
def budgets(world):
    """The owner's budgets in a currency with 2, 0 and 3 minor units."""
    return {
        "EUR": world.budget,
        "JPY": BudgetFactory(owner=world.owner, name="Yen", currency="JPY", amount_minor=100_000),
        "BHD": BudgetFactory(owner=world.owner, name="Dinar", currency="BHD", amount_minor=100_000),
    }


@pytest.mark.parametrize(("currency", "amount", "code"), BAD_AMOUNTS)
def test_bad_amount_on_create_is_a_400_and_nothing_is_written(world, as_, budgets, currency, amount, code):
    before = db_state()
    response = as_("owner").post(LIST, payload(budgets[currency], amount=amount))
    assert_amount_refused(response, code)
    assert db_state() == before


@pytest.mark.parametrize(("currency", "amount", "code"), BAD_AMOUNTS)
def test_bad_amount_on_patch_is_a_400_and_nothing_changes(world, as_, budgets, currency, amount, code):
    tx = world.groceries
    if currency != "EUR":
        tx = Transaction.objects.create(
            budget=budgets[currency], created_by=world.owner, kind="expense", amount_minor=5, date=tx.date
        )
    before = db_state()
    response = as_("owner").patch(detail_url(tx.pk), {"amount": amount})
    assert_amount_refused(response, code)
    assert db_state() == before


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [("EUR", "12.30", 1_230), ("EUR", "12.3", 1_230), ("JPY", "1500", 1_500), ("BHD", "1.250", 1_250)],
)
def test_amounts_within_the_currencys_minor_units_are_accepted(world, as_, budgets, currency, amount, minor):
    response = as_("owner").post(LIST, payload(budgets[currency], amount=amount))
    assert response.status_code == 201, response.json()
    assert budgets[currency].transactions.get(pk=response.json()["id"]).amount_minor == minor


@pytest.mark.parametrize("value", ["2026-02-30", "0000-01-01", "2026-13-01", "26-01-01", "", None])
def test_impossible_date_is_a_400_and_nothing_is_written(world, as_, value):
    before = db_state()
    response = as_("owner").post(LIST, payload(world.budget, date=value))
    assert_error(response, 400, attr="date")
    assert db_state() == before


def test_category_of_another_budget_is_a_400_and_nothing_is_written(world, as_):
    other = BudgetFactory(owner=world.owner, name="Other")
    elsewhere = CategoryFactory(budget=other, name="Elsewhere")
    before = db_state()
    response = as_("owner").post(LIST, payload(world.budget, category=elsewhere.pk))
    assert_error(response, 400, "category_budget_mismatch", attr="category")
    assert db_state() == before


def test_category_of_another_tenant_reads_like_an_unknown_category(world, as_):
    client = as_("owner")
    before = db_state()
    foreign = client.post(LIST, payload(world.budget, category=world.foreign_category.pk))
    assert_error(foreign, 400, "does_not_exist", attr="category")
    unknown_id = world.foreign_category.pk + 1000
    unknown = client.post(LIST, payload(world.budget, category=unknown_id))
    assert (
        foreign.json()["errors"][0]["detail"].replace(f'"{world.foreign_category.pk}"', f'"{unknown_id}"')
        == unknown.json()["errors"][0]["detail"]
    )
    assert db_state() == before


def test_budget_of_another_tenant_reads_like_an_unknown_budget(world, as_):
    client = as_("owner")
    before = db_state()
    foreign = client.post(LIST, payload(world.foreign_budget))
    assert_error(foreign, 400, "does_not_exist", attr="budget")
    unknown_id = world.foreign_budget.pk + 1000
    unknown = client.post(LIST, payload(world.budget, budget=unknown_id))
    assert (
        foreign.json()["errors"][0]["detail"].replace(f'"{world.foreign_budget.pk}"', f'"{unknown_id}"')
        == unknown.json()["errors"][0]["detail"]
    )
    assert db_state() == before


@pytest.mark.parametrize("field", ["kind", "budget", "category"])
@pytest.mark.parametrize("value", ["refund", True, [1], {"id": 1}, 1.5])
def test_wrongly_typed_fields_are_a_400(world, as_, field, value):
    before = db_state()
    response = as_("owner").post(LIST, payload(world.budget, **{field: value}))
    assert_error(response, 400, attr=field)
    assert db_state() == before


@pytest.mark.parametrize(("field", "limit"), [("payee", 200), ("description", 500), ("notes", 2000)])
def test_text_over_its_bound_is_a_400(world, as_, field, limit):
    before = db_state()
    response = as_("owner").post(LIST, payload(world.budget, **{field: "x" * (limit + 1)}))
    assert_error(response, 400, "max_length", attr=field)
    assert db_state() == before


# NUL characters: PostgreSQL cannot store them; they must be refused up front -----------------


@pytest.mark.parametrize("field", ["payee", "description", "notes", "amount", "date", "kind"])
def test_nul_character_in_a_field_is_a_400_on_create(world, as_, field):
    before = db_state()
    body = payload(world.budget)
    body[field] = f"{body[field] or 'a'}\x00b"
    response = as_("owner").post(LIST, body)
    assert_error(response, 400, attr=field)
    assert db_state() == before


def test_nul_character_in_a_text_field_is_a_400_on_patch_and_bulk(world, as_):
    client = as_("owner")
    before = db_state()
    assert_error(client.patch(detail_url(world.groceries.pk), {"notes": "a\x00b"}), 400, attr="notes")
    bulk = client.post(BULK, [payload(world.budget), payload(world.budget, payee="\x00")])
    assert_error(bulk, 400, attr="1.payee")
    assert db_state() == before


@pytest.mark.parametrize(
    "param",
    [
        "search",
        "budget",
        "category",
        "created_by",
        "kind",
        "date_after",
        "date_before",
        "amount_min",
        "amount_max",
        "ordering",
    ],
)
@pytest.mark.parametrize("url", [LIST, EXPORT])
def test_nul_character_in_a_filter_value_is_a_400(world, as_, param, url):
    response = as_("owner").get(url, {param: "1\x00"})
    assert_error(response, 400, attr=param)


@pytest.mark.parametrize("param", ["limit", "offset"])
def test_nul_character_in_pagination_is_a_400(world, as_, param):
    # An unreadable page parameter is refused, as the schema says (server/pagination.py);
    # it used to fall back to the default page silently.
    response = as_("owner").get(LIST, {param: "5\x00"})
    body = assert_error(response, 400, code="invalid", attr=param)
    assert len(body["errors"]) == 1


@pytest.mark.parametrize(
    ("route", "params", "attr"),
    [
        (summary_url, {"date": "2026-01-01\x00"}, "date"),
        (report_url, {"from": "2026-01\x00"}, "from"),
        (report_url, {"to": "\x002026-01"}, "to"),
    ],
)
def test_nul_character_in_an_aggregate_parameter_is_a_400(world, as_, route, params, attr):
    assert_error(as_("owner").get(route(world.budget.pk), params), 400, attr=attr)


def test_nul_character_in_a_url_id_is_a_404(world, as_):
    assert_error(as_("owner").get(detail_url("1\x00")), 404)


def test_nul_in_the_import_form_fields_is_a_400(world, as_):
    before = db_state()
    response = import_csv(
        as_("owner"), f"{world.budget.pk}\x00", IMPORT_HEADER + "2026-01-05,1.00,expense,,a,,\n"
    )
    assert_error(response, 400, attr="budget")
    assert db_state() == before


# Size --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("post", LIST), ("post", BULK), ("patch", "detail"), ("put", "detail")],
)
def test_a_10_mb_json_body_is_a_413_and_nothing_is_written(world, as_, method, url):
    url = detail_url(world.groceries.pk) if url == "detail" else url
    body = json.dumps(payload(world.budget, notes="x" * (10 * 1024 * 1024)))
    before = db_state()
    response = getattr(as_("owner"), method)(url, body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")
    assert db_state() == before


@pytest.mark.parametrize("body", ["", "{", "[1, 2", '"just a string"', "null"])
def test_malformed_or_shapeless_json_is_a_400(world, as_, body):
    before = db_state()
    response = as_("owner").post(LIST, body, content_type="application/json")
    assert_error(response, 400)
    assert db_state() == before
