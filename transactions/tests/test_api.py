"""The actor matrix on every transactions route.

Access follows the budget: view reads (list, detail, export, summary, report), edit
writes (create, update, delete, bulk, import). A budget the caller cannot see is a
404 on its own routes and an unknown id (400 does_not_exist) when named in input.
"""

import datetime

import pytest
from django.utils.dateparse import parse_datetime

from budgets.tests.factories import BudgetFactory, CategoryFactory, share_user
from households.services import membership_leave
from server.tests.helpers import assert_error
from server.tests.world import OUTSIDERS, READERS, WRITERS
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import (
    BULK,
    EXPORT,
    IMPORT_HEADER,
    ITEM_KEYS,
    LIST,
    csv_body,
    csv_rows,
    db_state,
    detail_url,
    import_csv,
    missing_budget_id,
    missing_transaction_id,
    payload,
    report_url,
    same_error_as_unknown,
    summary_url,
)

pytestmark = pytest.mark.django_db

# What the owner's budget holds, as it must never appear to an outsider.
BUDGET_SECRETS = (b"Market", b"Employer", b"Landlord", b"42.50", b"2500.00", b"900.00", b"Family")


def budget_row_ids(world) -> set[int]:
    return {world.groceries.pk, world.salary.pk, world.rent_paid.pk}


def own_row_ids(world, actor) -> set[int]:
    """Rows an outsider legitimately sees: the stranger's own, nobody else's."""
    return {world.foreign_tx.pk} if actor == "stranger" else set()


# Anonymous: 401 everywhere, nothing written --------------------------------------------------


ANONYMOUS_REQUESTS = {
    "list": ("get", lambda w: LIST, None),
    "create": ("post", lambda w: LIST, lambda w: payload(w.budget)),
    "retrieve": ("get", lambda w: detail_url(w.groceries.pk), None),
    "put": ("put", lambda w: detail_url(w.groceries.pk), lambda w: payload(w.budget)),
    "patch": ("patch", lambda w: detail_url(w.groceries.pk), lambda w: {"payee": "Changed"}),
    "delete": ("delete", lambda w: detail_url(w.groceries.pk), None),
    "bulk": ("post", lambda w: BULK, lambda w: [payload(w.budget)]),
    "export": ("get", lambda w: EXPORT, None),
    "summary": ("get", lambda w: summary_url(w.budget.pk), None),
    "report": ("get", lambda w: report_url(w.budget.pk), None),
}


@pytest.mark.parametrize("route", ANONYMOUS_REQUESTS)
def test_anonymous_gets_401_on_every_route_and_nothing_changes(world, anon, route):
    method, url, data = ANONYMOUS_REQUESTS[route]
    before = db_state()
    response = getattr(anon, method)(url(world), data(world) if data else None)
    assert_error(response, 401, "not_authenticated")
    assert db_state() == before


def test_anonymous_import_gets_401_and_writes_nothing(world, anon):
    before = db_state()
    response = import_csv(anon, world.budget.pk, IMPORT_HEADER + "2026-01-05,1.00,expense,,Shop,,\n")
    assert_error(response, 401, "not_authenticated")
    assert db_state() == before


# List ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", READERS)
def test_readers_list_exactly_the_shared_budget_rows(world, as_, actor):
    response = as_(actor).get(LIST)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    # Newest date first.
    assert [r["id"] for r in body["results"]] == [world.groceries.pk, world.rent_paid.pk, world.salary.pk]
    assert all(set(item) == ITEM_KEYS for item in body["results"])


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_outsiders_list_no_row_of_the_budget(world, as_, actor):
    response = as_(actor).get(LIST)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {r["id"] for r in body["results"]} == own_row_ids(world, actor)
    assert body["count"] == len(own_row_ids(world, actor))


# Detail --------------------------------------------------------------------------------------


def test_item_has_exactly_the_documented_shape(world, as_):
    response = as_("viewer").get(detail_url(world.groceries.pk))
    assert response.status_code == 200, response.json()
    body = response.json()
    tx = Transaction.objects.get(pk=world.groceries.pk)
    assert parse_datetime(body.pop("created_at")) == tx.created_at
    assert parse_datetime(body.pop("updated_at")) == tx.updated_at
    assert body == {
        "id": tx.pk,
        "budget": world.budget.pk,
        "category": world.food.pk,
        "kind": "expense",
        "amount": "42.50",
        "date": "2026-01-10",
        "payee": "Market",
        "description": "weekly shop",
        "notes": "bread, milk",
        "split": None,
        "created_by": {"id": world.owner.pk, "email": world.owner.email},
        "version": 1,
    }


@pytest.mark.parametrize("actor", READERS)
def test_readers_retrieve_a_transaction_of_the_budget(world, as_, actor):
    response = as_(actor).get(detail_url(world.rent_paid.pk))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == ITEM_KEYS
    assert (body["id"], body["amount"], body["category"]) == (world.rent_paid.pk, "900.00", world.rent.pk)


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_outsiders_get_404_identical_to_a_missing_transaction(world, as_, actor):
    client = as_(actor)
    foreign = client.get(detail_url(world.groceries.pk))
    missing = client.get(detail_url(missing_transaction_id()))
    assert_error(foreign, 404, "not_found")
    assert foreign.content == missing.content


# Create --------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", WRITERS)
def test_writers_create_a_transaction_recorded_by_themselves(world, as_, actor):
    client = as_(actor)
    response = client.post(LIST, payload(world.budget, category=world.food.pk))
    assert response.status_code == 201, response.json()
    body = response.json()
    tx = Transaction.objects.get(pk=body["id"])
    assert (tx.budget_id, tx.category_id, tx.kind, tx.amount_minor, tx.date, tx.payee, tx.description) == (
        world.budget.pk,
        world.food.pk,
        "expense",
        1_230,
        datetime.date(2026, 1, 20),
        "Bakery",
        "croissants",
    )
    assert tx.created_by == client.user
    assert body["amount"] == "12.30"
    assert body["created_by"] == {"id": client.user.pk, "email": client.user.email}
    assert Transaction.objects.filter(budget=world.budget).count() == 4


def test_viewer_cannot_create_a_transaction(world, as_):
    before = db_state()
    response = as_("viewer").post(LIST, payload(world.budget))
    assert_error(response, 403, "permission_denied")
    assert db_state() == before


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_outsiders_naming_the_budget_get_400_identical_to_an_unknown_budget(world, as_, actor):
    client = as_(actor)
    before = db_state()
    unknown_id = missing_budget_id()
    foreign = client.post(LIST, payload(world.budget))
    unknown = client.post(LIST, payload(world.budget, budget=unknown_id))
    assert_error(foreign, 400, "does_not_exist", attr="budget")
    assert same_error_as_unknown(foreign.json(), unknown.json(), world.budget.pk, unknown_id)
    assert db_state() == before


def test_created_by_and_id_in_a_create_body_are_ignored(world, as_):
    client = as_("editor")
    response = client.post(
        LIST,
        payload(
            world.budget, created_by=world.owner.pk, id=world.groceries.pk, created_at="2000-01-01T00:00Z"
        ),
    )
    assert response.status_code == 201, response.json()
    tx = Transaction.objects.get(pk=response.json()["id"])
    assert tx.pk != world.groceries.pk
    assert tx.created_by == world.editor
    assert tx.created_at.year != 2000  # the server stamps it
    assert Transaction.objects.get(pk=world.groceries.pk).payee == "Market"


# Update and delete ---------------------------------------------------------------------------


@pytest.mark.parametrize("actor", WRITERS)
def test_writers_replace_a_transaction_with_put(world, as_, actor):
    body = payload(
        world.budget, category=world.rent.pk, kind="expense", amount="950.00", payee="New landlord"
    )
    response = as_(actor).put(detail_url(world.rent_paid.pk), body)
    assert response.status_code == 200, response.json()
    tx = Transaction.objects.get(pk=world.rent_paid.pk)
    assert (tx.amount_minor, tx.payee, tx.date, tx.category_id) == (
        95_000,
        "New landlord",
        datetime.date(2026, 1, 20),
        world.rent.pk,
    )
    assert tx.created_by == world.owner  # who recorded it does not change
    assert response.json()["amount"] == "950.00"


@pytest.mark.parametrize("actor", WRITERS)
def test_writers_patch_a_transaction(world, as_, actor):
    response = as_(actor).patch(detail_url(world.groceries.pk), {"amount": "43.10", "category": None})
    assert response.status_code == 200, response.json()
    tx = Transaction.objects.get(pk=world.groceries.pk)
    assert (tx.amount_minor, tx.category_id, tx.payee) == (4_310, None, "Market")
    assert response.json()["category"] is None


@pytest.mark.parametrize("actor", WRITERS)
def test_writers_delete_a_transaction(world, as_, actor):
    response = as_(actor).delete(detail_url(world.groceries.pk))
    assert response.status_code == 204
    assert not Transaction.objects.filter(pk=world.groceries.pk).exists()
    assert set(Transaction.objects.filter(budget=world.budget).values_list("pk", flat=True)) == {
        world.salary.pk,
        world.rent_paid.pk,
    }


@pytest.mark.parametrize(
    ("method", "data"),
    [
        ("put", "full"),
        ("patch", {"payee": "Changed"}),
        ("delete", None),
    ],
)
def test_viewer_cannot_change_or_delete_a_transaction(world, as_, method, data):
    before = db_state()
    body = payload(world.budget) if data == "full" else data
    response = getattr(as_("viewer"), method)(detail_url(world.groceries.pk), body)
    assert_error(response, 403, "permission_denied")
    assert db_state() == before


@pytest.mark.parametrize("actor", OUTSIDERS)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_outsiders_get_404_identical_to_missing_on_writes(world, as_, actor, method):
    client = as_(actor)
    before = db_state()
    body = None if method == "delete" else payload(world.budget)
    foreign = getattr(client, method)(detail_url(world.groceries.pk), body)
    missing = getattr(client, method)(detail_url(missing_transaction_id()), body)
    assert_error(foreign, 404, "not_found")
    assert foreign.content == missing.content
    assert db_state() == before


def test_created_by_id_and_created_at_in_a_patch_are_ignored(world, as_):
    original = Transaction.objects.get(pk=world.groceries.pk)
    response = as_("editor").patch(
        detail_url(original.pk),
        {
            "created_by": world.editor.pk,
            "id": original.pk + 500,
            "created_at": "2000-01-01T00:00:00Z",
            "payee": "Corner shop",
        },
    )
    assert response.status_code == 200, response.json()
    tx = Transaction.objects.get(pk=original.pk)
    assert tx.payee == "Corner shop"
    assert (tx.created_by_id, tx.created_at) == (world.owner.pk, original.created_at)
    assert not Transaction.objects.filter(pk=original.pk + 500).exists()
    assert response.json()["created_by"] == {"id": world.owner.pk, "email": world.owner.email}


# Moving a transaction between budgets -------------------------------------------------------


@pytest.fixture
def other_budgets(world):
    """The owner's "Holiday" (the editor may edit) and "Car" (the editor may only view)."""
    holiday = BudgetFactory(owner=world.owner, name="Holiday", currency="EUR")
    car = BudgetFactory(owner=world.owner, name="Car", currency="EUR")
    share_user(holiday, world.editor, "edit")
    share_user(car, world.editor, "view")
    return holiday, car


def test_editor_moves_a_transaction_to_another_budget_they_can_edit(world, as_, other_budgets):
    holiday, _ = other_budgets
    response = as_("editor").patch(detail_url(world.groceries.pk), {"budget": holiday.pk, "category": None})
    assert response.status_code == 200, response.json()
    assert response.json()["budget"] == holiday.pk
    tx = Transaction.objects.get(pk=world.groceries.pk)
    assert (tx.budget_id, tx.category_id, tx.amount_minor) == (holiday.pk, None, 4_250)


def test_editor_cannot_move_a_transaction_to_a_budget_they_only_view(world, as_, other_budgets):
    _, car = other_budgets
    before = db_state()
    response = as_("editor").patch(detail_url(world.salary.pk), {"budget": car.pk})
    assert_error(response, 403, "permission_denied")
    assert db_state() == before


def test_moving_to_an_invisible_budget_reads_like_an_unknown_budget(world, as_, other_budgets):
    client = as_("editor")
    before = db_state()
    unknown_id = missing_budget_id()
    foreign = client.patch(detail_url(world.salary.pk), {"budget": world.foreign_budget.pk})
    unknown = client.patch(detail_url(world.salary.pk), {"budget": unknown_id})
    assert_error(foreign, 400, "does_not_exist", attr="budget")
    assert same_error_as_unknown(foreign.json(), unknown.json(), world.foreign_budget.pk, unknown_id)
    assert db_state() == before


def test_moving_keeps_the_category_only_if_it_belongs_to_the_new_budget(world, as_, other_budgets):
    holiday, _ = other_budgets
    before = db_state()
    response = as_("editor").patch(detail_url(world.groceries.pk), {"budget": holiday.pk})
    assert_error(response, 400, "category_budget_mismatch", attr="category")
    assert db_state() == before


def test_moving_to_a_budget_in_another_currency_needs_the_amount_again(world, as_):
    yen = BudgetFactory(owner=world.owner, name="Tokyo", currency="JPY", amount_minor=100_000)
    client = as_("owner")
    before = db_state()
    refused = client.patch(detail_url(world.salary.pk), {"budget": yen.pk})
    assert_error(refused, 400, "required", attr="amount")
    assert db_state() == before
    moved = client.patch(detail_url(world.salary.pk), {"budget": yen.pk, "amount": "300000"})
    assert moved.status_code == 200, moved.json()
    assert moved.json()["amount"] == "300000"
    assert Transaction.objects.get(pk=world.salary.pk).amount_minor == 300_000


# Bulk ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", WRITERS)
def test_writers_bulk_create_transactions(world, as_, actor):
    client = as_(actor)
    items = [payload(world.budget, payee=f"Shop {i}", amount=f"{i}.05") for i in range(1, 4)]
    response = client.post(BULK, items)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [item["payee"] for item in body] == ["Shop 1", "Shop 2", "Shop 3"]
    assert [item["amount"] for item in body] == ["1.05", "2.05", "3.05"]
    created = Transaction.objects.filter(pk__in=[item["id"] for item in body])
    assert sorted(created.values_list("amount_minor", flat=True)) == [105, 205, 305]
    assert set(created.values_list("created_by_id", "budget_id")) == {(client.user.pk, world.budget.pk)}


def test_viewer_cannot_bulk_create(world, as_):
    before = db_state()
    response = as_("viewer").post(BULK, [payload(world.budget), payload(world.budget)])
    assert_error(response, 403, "permission_denied")
    assert db_state() == before


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_outsiders_bulk_naming_the_budget_get_400_identical_to_an_unknown_budget(world, as_, actor):
    client = as_(actor)
    before = db_state()
    unknown_id = missing_budget_id()
    foreign = client.post(BULK, [payload(world.budget)])
    unknown = client.post(BULK, [payload(world.budget, budget=unknown_id)])
    assert_error(foreign, 400, "does_not_exist", attr="0.budget")
    assert same_error_as_unknown(foreign.json(), unknown.json(), world.budget.pk, unknown_id)
    assert db_state() == before


# Export --------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", READERS)
def test_readers_export_the_budget_rows(world, as_, actor):
    response = as_(actor).get(EXPORT)
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0][0] == "id"
    assert {int(r[0]) for r in rows[1:]} == budget_row_ids(world)
    assert b"Stranger Secret Payee" not in csv_body(response)
    assert b"777.77" not in csv_body(response)


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_outsiders_export_holds_no_row_of_the_budget(world, as_, actor):
    response = as_(actor).get(EXPORT)
    assert response.status_code == 200
    body = csv_body(response)
    for secret in BUDGET_SECRETS:
        assert secret not in body, secret
    assert {int(r[0]) for r in csv_rows(response)[1:]} == own_row_ids(world, actor)


# Import --------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", WRITERS)
def test_writers_import_into_the_budget(world, as_, actor):
    client = as_(actor)
    content = IMPORT_HEADER + "2026-01-05,1.00,expense,Food,Shop A,,\n2026-01-06,2.50,income,,Refund,,\n"
    response = import_csv(client, world.budget.pk, content)
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "dry_run": False,
        "created": 2,
        "skipped": [],
        "categories_created": [],
    }
    imported = Transaction.objects.filter(payee__in=["Shop A", "Refund"]).order_by("date")
    assert list(
        imported.values_list("budget_id", "created_by_id", "category_id", "kind", "amount_minor")
    ) == [
        (world.budget.pk, client.user.pk, world.food.pk, "expense", 100),
        (world.budget.pk, client.user.pk, None, "income", 250),
    ]


def test_viewer_can_export_but_not_import(world, as_):
    client = as_("viewer")
    assert client.get(EXPORT).status_code == 200
    before = db_state()
    response = import_csv(client, world.budget.pk, IMPORT_HEADER + "2026-01-05,1.00,expense,,Shop,,\n")
    assert_error(response, 403, "permission_denied")
    assert db_state() == before


@pytest.mark.parametrize("actor", OUTSIDERS)
def test_outsiders_import_naming_the_budget_get_400_identical_to_an_unknown_budget(world, as_, actor):
    client = as_(actor)
    before = db_state()
    unknown_id = missing_budget_id()
    content = IMPORT_HEADER + "2026-01-05,1.00,expense,,Shop,,\n"
    foreign = import_csv(client, world.budget.pk, content)
    unknown = import_csv(client, unknown_id, content)
    assert_error(foreign, 400, "does_not_exist", attr="budget")
    assert same_error_as_unknown(foreign.json(), unknown.json(), world.budget.pk, unknown_id)
    assert db_state() == before


# Summary and monthly report -----------------------------------------------------------------


@pytest.mark.parametrize("actor", READERS)
def test_readers_get_the_budget_summary(world, as_, actor):
    response = as_(actor).get(summary_url(world.budget.pk), {"date": "2026-01-15"})
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "currency": "EUR",
        "amount": "2000.00",
        "spent": "942.50",
        "income": "2500.00",
        "remaining": "1057.50",
        "percent_used": "47.13",
        "by_category": [
            {
                "id": world.food.pk,
                "name": "Food",
                "allocated": "300.00",
                "spent": "42.50",
                "remaining": "257.50",
            },
            {
                "id": world.rent.pk,
                "name": "Rent",
                "allocated": "1000.00",
                "spent": "900.00",
                "remaining": "100.00",
            },
        ],
        "uncategorised_spent": "0.00",
    }


@pytest.mark.parametrize("actor", READERS)
def test_readers_get_the_monthly_report(world, as_, actor):
    response = as_(actor).get(report_url(world.budget.pk), {"from": "2026-01", "to": "2026-02"})
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "currency": "EUR",
        "from": "2026-01",
        "to": "2026-02",
        "months": [
            {
                "month": "2026-01",
                "income": "2500.00",
                "expenses": "942.50",
                "net": "1557.50",
                "by_category": [
                    {"id": world.food.pk, "name": "Food", "expenses": "42.50"},
                    {"id": world.rent.pk, "name": "Rent", "expenses": "900.00"},
                ],
            },
            {"month": "2026-02", "income": "0.00", "expenses": "0.00", "net": "0.00", "by_category": []},
        ],
    }


@pytest.mark.parametrize("actor", OUTSIDERS)
@pytest.mark.parametrize("url", [summary_url, report_url])
def test_outsiders_get_404_identical_to_a_missing_budget_on_aggregates(world, as_, actor, url):
    client = as_(actor)
    foreign = client.get(url(world.budget.pk))
    missing = client.get(url(missing_budget_id()))
    assert_error(foreign, 404, "not_found")
    assert foreign.content == missing.content


def test_aggregates_ignore_other_budgets_of_the_same_people(world, as_):
    other = BudgetFactory(owner=world.owner, name="Other", currency="EUR")
    TransactionFactory(budget=other, amount_minor=1_000_000, date=datetime.date(2026, 1, 12))
    CategoryFactory(budget=other, name="Elsewhere")
    response = as_("owner").get(summary_url(world.budget.pk), {"date": "2026-01-15"})
    assert response.json()["spent"] == "942.50"
    assert [c["name"] for c in response.json()["by_category"]] == ["Food", "Rent"]


def test_a_viewer_of_the_source_cannot_move_it_into_a_budget_they_edit(world, as_):
    own = BudgetFactory(owner=world.viewer, name="Viewer's own")
    before = db_state()
    response = as_("viewer").patch(detail_url(world.salary.pk), {"budget": own.pk})
    assert_error(response, 403, "permission_denied")
    assert db_state() == before


def test_rows_of_a_deleted_account_show_created_by_null(world, as_):
    tx = TransactionFactory(budget=world.budget, created_by=world.editor, payee="By the editor")
    world.editor.delete()
    body = as_("owner").get(detail_url(tx.pk)).json()
    assert body["created_by"] is None
    assert body["payee"] == "By the editor"


@pytest.mark.parametrize(("actor", "household"), [("editor", "home"), ("household_editor", "flat")])
def test_leaving_the_household_ends_access_to_the_budgets_transactions(world, as_, actor, household):
    user = getattr(world, actor)
    membership_leave(household=getattr(world, household), user=user)
    client = as_(actor)
    assert client.get(LIST).json()["count"] == 0
    assert_error(client.get(detail_url(world.groceries.pk)), 404, "not_found")
    before = db_state()
    assert_error(client.post(LIST, payload(world.budget)), 400, "does_not_exist", attr="budget")
    assert_error(client.delete(detail_url(world.groceries.pk)), 404, "not_found")
    assert db_state() == before
