"""Bulk create, CSV import and CSV export: all or nothing, limits, duplicates, safe cells."""

import datetime

import pytest

from budgets.models import Budget, Category
from budgets.tests.factories import BudgetFactory, share_user
from server.tests.helpers import assert_error
from transactions import csv_io
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import (
    BULK,
    EXPORT,
    IMPORT_HEADER,
    LIST,
    csv_body,
    csv_rows,
    db_state,
    import_csv,
    payload,
)

pytestmark = pytest.mark.django_db


# Bulk ----------------------------------------------------------------------------------------


def items(budget, n, **overrides):
    return [payload(budget, payee=f"Item {i}", amount=f"{i + 1}.00", **overrides) for i in range(n)]


def test_bulk_creates_up_to_1000_items(world, as_):
    response = as_("editor").post(BULK, items(world.budget, 1000))
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert len(body) == 1000
    assert body[0]["payee"] == "Item 0" and body[-1]["amount"] == "1000.00"
    created = Transaction.objects.filter(budget=world.budget, payee__startswith="Item ")
    assert created.count() == 1000
    assert set(created.values_list("created_by_id", flat=True)) == {world.editor.pk}
    assert sum(created.values_list("amount_minor", flat=True)) == sum(range(1, 1001)) * 100


def test_bulk_with_a_bad_item_last_writes_nothing_and_names_its_index(world, as_):
    body = items(world.budget, 1000)
    body[999]["amount"] = "12.345"
    before = db_state()
    response = as_("editor").post(BULK, body)
    errors = assert_error(response, 400)["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [("999.amount", "max_decimal_places")]
    assert db_state() == before


def test_bulk_reports_every_bad_item_by_index(world, as_):
    body = items(world.budget, 4)
    body[1]["kind"] = "refund"
    body[3]["category"] = world.foreign_category.pk
    before = db_state()
    errors = assert_error(as_("owner").post(BULK, body), 400)["errors"]
    assert {(e["attr"], e["code"]) for e in errors} == {
        ("1.kind", "invalid_choice"),
        ("3.category", "does_not_exist"),
    }
    assert db_state() == before


def test_bulk_over_1000_items_is_refused_with_too_many_items(world, as_):
    before = db_state()
    response = as_("owner").post(BULK, items(world.budget, 1001))
    assert_error(response, 400, "too_many_items")
    assert db_state() == before


@pytest.mark.parametrize(("body", "code"), [({"budget": 1}, "not_a_list"), ([], "empty")])
def test_bulk_needs_a_non_empty_list(world, as_, body, code):
    before = db_state()
    assert_error(as_("owner").post(BULK, body), 400, code)
    assert db_state() == before


def test_bulk_mixing_an_editable_and_a_view_only_budget_is_403_and_writes_nothing(world, as_):
    view_only = BudgetFactory(owner=world.owner, name="View only")
    share_user(view_only, world.editor, "view")
    before = db_state()
    response = as_("editor").post(BULK, [payload(world.budget), payload(view_only)])
    assert_error(response, 403, "permission_denied")
    assert db_state() == before


# Import --------------------------------------------------------------------------------------

GOOD_ROWS = (
    "2026-01-05,12.30,expense,Food,Market,weekly shop,\n"
    "2026-01-06,2500,income,,Employer,January pay,on time\n"
    "2026-01-07,7.5,expense,rent,Landlord,,\n"
)


def test_import_creates_every_row_with_its_category(world, as_):
    response = import_csv(as_("owner"), world.budget.pk, IMPORT_HEADER + GOOD_ROWS)
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "dry_run": False,
        "created": 3,
        "skipped": [],
        "categories_created": [],
    }
    rows = Transaction.objects.filter(budget=world.budget, date__range=("2026-01-05", "2026-01-07"))
    rows = rows.order_by("date")
    assert list(rows.values_list("amount_minor", "kind", "category_id", "payee", "description", "notes")) == [
        (1_230, "expense", world.food.pk, "Market", "weekly shop", ""),
        (250_000, "income", None, "Employer", "January pay", "on time"),
        (750, "expense", world.rent.pk, "Landlord", "", ""),  # category names match in any case
    ]


def test_import_dry_run_reports_what_would_be_created_and_writes_nothing(world, as_):
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, IMPORT_HEADER + GOOD_ROWS, dry_run="true")
    assert response.status_code == 200, response.json()
    assert response.json() == {"dry_run": True, "created": 3, "skipped": [], "categories_created": []}
    assert db_state() == before


def test_import_dry_run_refuses_a_bad_row_as_the_real_run_does(world, as_):
    content = IMPORT_HEADER + GOOD_ROWS + "2026-01-08,1.999,expense,,Bad amount,,\n"
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, content, dry_run="true")
    body = assert_error(response, 400)
    assert body == {
        "type": "validation_error",
        "errors": [
            {
                "code": "max_decimal_places",
                "detail": "EUR amounts have at most 2 decimal places.",
                "attr": "5.amount",
            }
        ],
    }
    assert db_state() == before
    assert import_csv(as_("owner"), world.budget.pk, content).json() == body
    assert db_state() == before


def test_import_dry_run_names_an_unknown_category_as_the_real_run_does(world, as_):
    content = IMPORT_HEADER + "2026-01-05,1.00,expense,Food,A,,\n2026-01-06,1.00,expense,Travel,B,,\n"
    before = db_state()
    body = assert_error(import_csv(as_("owner"), world.budget.pk, content, dry_run="true"), 400)
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [("3.category", "unknown_category")]
    assert db_state() == before


def test_import_with_a_bad_row_last_writes_nothing(world, as_):
    content = IMPORT_HEADER + GOOD_ROWS * 100 + "2026-02-30,1.00,expense,,Bad date,,\n"
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, content)
    errors = assert_error(response, 400)["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [("302.date", "invalid")]
    assert db_state() == before


def test_import_reports_every_error_by_line_and_field(world, as_):
    content = (
        IMPORT_HEADER
        + "2026-01-05,abc,expense,,A,,\n"
        + "2026-01-06,1.00,refund,,B,,\n"
        + "2026-01-07,1.00,expense\n"
        + "2026-01-08,1.00,expense,Travel,C,,\n"
    )
    before = db_state()
    errors = assert_error(import_csv(as_("owner"), world.budget.pk, content), 400)["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [
        ("2.amount", "invalid"),
        ("3.kind", "invalid_choice"),
        ("4", "invalid_row"),
        ("5.category", "unknown_category"),
    ]
    assert db_state() == before


def test_reimporting_the_same_file_creates_nothing_and_reports_each_row(world, as_):
    client = as_("owner")
    assert import_csv(client, world.budget.pk, IMPORT_HEADER + GOOD_ROWS).status_code == 201
    before = db_state()
    response = import_csv(client, world.budget.pk, IMPORT_HEADER + GOOD_ROWS)
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 0
    assert response.json()["skipped"] == [
        {"line": line, "reason": "duplicate_of_existing"} for line in (2, 3, 4)
    ]
    assert db_state() == before


def test_rows_repeated_within_the_file_are_imported_once(world, as_):
    row = "2026-01-05,12.30,expense,Food,Market,weekly shop,\n"
    response = import_csv(as_("owner"), world.budget.pk, IMPORT_HEADER + row + row + row)
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 1
    assert response.json()["skipped"] == [
        {"line": 3, "reason": "duplicate_in_file"},
        {"line": 4, "reason": "duplicate_in_file"},
    ]
    assert Transaction.objects.filter(budget=world.budget, payee="Market", date="2026-01-05").count() == 1


def test_a_row_matching_an_existing_transaction_is_skipped(world, as_):
    # world.groceries: 2026-01-10, 42.50, expense, "Market", "weekly shop"
    content = IMPORT_HEADER + "2026-01-10,42.50,expense,,Market,weekly shop,other notes\n"
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, content)
    assert response.status_code == 201
    assert (response.json()["created"], response.json()["skipped"]) == (
        0,
        [{"line": 2, "reason": "duplicate_of_existing"}],
    )
    assert db_state() == before


def test_unknown_categories_are_an_error_per_line(world, as_):
    content = IMPORT_HEADER + "2026-01-05,1.00,expense,Travel,A,,\n2026-01-06,1.00,expense,Travel,B,,\n"
    before = db_state()
    errors = assert_error(import_csv(as_("owner"), world.budget.pk, content), 400)["errors"]
    assert [(e["attr"], e["code"]) for e in errors] == [
        ("2.category", "unknown_category"),
        ("3.category", "unknown_category"),
    ]
    assert db_state() == before


def test_create_categories_creates_each_unknown_name_once(world, as_):
    content = (
        IMPORT_HEADER
        + "2026-01-05,1.00,expense,Travel,A,,\n"
        + "2026-01-06,2.00,expense,travel,B,,\n"
        + "2026-01-07,3.00,expense,Food,C,,\n"
    )
    response = import_csv(as_("owner"), world.budget.pk, content, create_categories="true")
    assert response.status_code == 201, response.json()
    assert (response.json()["created"], response.json()["categories_created"]) == (3, ["Travel"])
    travel = Category.objects.get(budget=world.budget, name="Travel")
    assert set(Transaction.objects.filter(payee__in=["A", "B"]).values_list("category_id", flat=True)) == {
        travel.pk
    }
    assert Transaction.objects.get(payee="C").category_id == world.food.pk


def test_import_never_matches_a_category_of_another_budget(world, as_):
    # The stranger's budget has a category "Hidden"; the owner's has none by that name.
    content = IMPORT_HEADER + "2026-01-05,1.00,expense,Hidden,A,,\n"
    before = db_state()
    assert_error(import_csv(as_("owner"), world.budget.pk, content), 400, "unknown_category")
    assert db_state() == before


def test_import_amounts_follow_the_budgets_minor_units(world, as_):
    yen = BudgetFactory(owner=world.owner, name="Yen", currency="JPY")
    client = as_("owner")
    before = db_state()
    refused = import_csv(client, yen.pk, IMPORT_HEADER + "2026-01-05,1.5,expense,,A,,\n")
    assert_error(refused, 400, "max_decimal_places", attr="2.amount")
    assert db_state() == before
    accepted = import_csv(client, yen.pk, IMPORT_HEADER + "2026-01-05,1500,expense,,A,,\n")
    assert accepted.status_code == 201
    assert yen.transactions.get().amount_minor == 1_500


def test_import_accepts_a_bom_crlf_and_any_column_order(world, as_):
    content = "\ufeffPayee,Kind,Amount,Date,Notes,Description,Category\r\nShop,expense,3.10,2026-01-05,,,\r\n"
    response = import_csv(as_("owner"), world.budget.pk, content)
    assert response.status_code == 201, response.json()
    assert Transaction.objects.get(payee="Shop").amount_minor == 310


def test_import_larger_than_5_mb_is_413(world, as_):
    row = "2026-01-05,1.00,expense,,Shop,,\n"
    content = IMPORT_HEADER + row * (5 * 1024 * 1024 // len(row) + 1)
    assert 5 * 1024 * 1024 < len(content) < 5 * 1024 * 1024 + 64 * 1024
    before = db_state()
    assert_error(import_csv(as_("owner"), world.budget.pk, content), 413, "file_too_large")
    assert db_state() == before


def test_import_far_larger_than_5_mb_is_413_before_it_is_read(world, as_):
    content = IMPORT_HEADER + "x" * (6 * 1024 * 1024)
    before = db_state()
    assert_error(import_csv(as_("owner"), world.budget.pk, content), 413, "file_too_large")
    assert db_state() == before


def test_import_of_more_than_50000_rows_is_413(world, as_):
    content = IMPORT_HEADER + "2026-01-05,1.00,expense,,Shop,,\n" * 50_001
    before = db_state()
    assert_error(import_csv(as_("owner"), world.budget.pk, content), 413, "too_many_rows")
    assert db_state() == before


def test_the_row_limit_counts_rows_not_errors(world, as_, monkeypatch):
    monkeypatch.setattr(csv_io, "MAX_IMPORT_ROWS", 3)
    client = as_("owner")
    two_errors_each = IMPORT_HEADER + "2026-02-30,1.00,refund,,A,,\n" * 3
    errors = assert_error(import_csv(client, world.budget.pk, two_errors_each), 400)["errors"]
    assert len(errors) == 6
    assert_error(import_csv(client, world.budget.pk, two_errors_each + "2026-01-05,1.00,expense,,B,,\n"), 413)
    exactly_three = IMPORT_HEADER + "".join(f"2026-01-0{i},1.00,expense,,Shop,,\n" for i in range(1, 4))
    assert import_csv(client, world.budget.pk, exactly_three).json()["created"] == 3


def test_import_that_is_not_utf8_is_400_invalid_encoding(world, as_):
    content = (IMPORT_HEADER + "2026-01-05,1.00,expense,,Café,,\n").encode("latin-1")
    before = db_state()
    assert_error(import_csv(as_("owner"), world.budget.pk, content), 400, "invalid_encoding")
    assert db_state() == before


@pytest.mark.parametrize(
    "header",
    [
        "date,amount,kind,category,payee,description\n",
        "date,amount,kind,category,payee,description,notes,extra\n",
        "Datum,Betrag,Art,Kategorie,Empfänger,Beschreibung,Notizen\n",
        "",
    ],
)
def test_import_with_a_wrong_header_is_400_invalid_header(world, as_, header):
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, header + "2026-01-05,1.00,expense,,Shop,,\n")
    assert_error(response, 400, "invalid_header")
    assert db_state() == before


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml" + b"\x00" * 64,  # xlsx
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,  # legacy xls
    ],
)
def test_a_spreadsheet_renamed_csv_is_400_not_csv(world, as_, content):
    before = db_state()
    assert_error(import_csv(as_("owner"), world.budget.pk, content), 400, "not_csv")
    assert db_state() == before


def test_import_with_nul_bytes_is_400_not_csv(world, as_):
    before = db_state()
    content = IMPORT_HEADER + "2026-01-05,1.00,expense,,Sh\x00op,,\n"
    assert_error(import_csv(as_("owner"), world.budget.pk, content), 400, "not_csv")
    assert db_state() == before


def test_import_without_a_file_is_400(world, as_):
    response = as_("owner").post(
        "/api/v1/transactions/import/", {"budget": world.budget.pk}, format="multipart"
    )
    assert_error(response, 400, "required", attr="file")


# Export --------------------------------------------------------------------------------------


def test_export_is_a_csv_attachment_with_one_header_row(world, as_):
    response = as_("viewer").get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="transactions-')
    assert response["Content-Disposition"].endswith('.csv"')
    rows = csv_rows(response)
    assert rows[0] == list(csv_io.EXPORT_COLUMNS)
    assert [r for r in rows if r[0] == "id"] == [rows[0]]
    assert rows[1:] == [
        [
            str(world.groceries.pk),
            "2026-01-10",
            str(world.budget.pk),
            "Family",
            "EUR",
            "expense",
            "42.50",
            "Food",
            "Market",
            "weekly shop",
            "bread, milk",
            world.owner.email,
        ],
        [
            str(world.rent_paid.pk),
            "2026-01-03",
            str(world.budget.pk),
            "Family",
            "EUR",
            "expense",
            "900.00",
            "Rent",
            "Landlord",
            "",
            "",
            world.owner.email,
        ],
        [
            str(world.salary.pk),
            "2026-01-01",
            str(world.budget.pk),
            "Family",
            "EUR",
            "income",
            "2500.00",
            "",
            "Employer",
            "",
            "",
            world.owner.email,
        ],
    ]


def test_export_amounts_are_exact_in_each_currency(world, as_):
    yen = BudgetFactory(owner=world.owner, name="Yen", currency="JPY")
    dinar = BudgetFactory(owner=world.owner, name="Dinar", currency="BHD")
    TransactionFactory(budget=yen, amount_minor=1_500, payee="yen row")
    TransactionFactory(budget=dinar, amount_minor=1_250, payee="dinar row")
    TransactionFactory(budget=world.budget, amount_minor=1, payee="cent row")
    TransactionFactory(budget=dinar, amount_minor=999_999_999_999_999_999, payee="huge row")
    rows = {r[8]: r[6] for r in csv_rows(as_("owner").get(EXPORT))[1:]}
    assert rows["yen row"] == "1500"
    assert rows["dinar row"] == "1.250"
    assert rows["cent row"] == "0.01"
    assert rows["huge row"] == "999999999999999.999"


@pytest.mark.parametrize(
    ("text", "exported"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain = text", "plain = text"),
    ],
)
def test_export_neutralises_formula_cells(world, as_, text, exported):
    Budget.objects.filter(pk=world.budget.pk).update(name=text[:100])
    Category.objects.filter(pk=world.food.pk).update(name=text[:100])
    Transaction.objects.filter(pk=world.groceries.pk).update(payee=text, description=text, notes=text)
    rows = [r for r in csv_rows(as_("owner").get(EXPORT))[1:] if r[0] == str(world.groceries.pk)]
    assert len(rows) == 1
    _, _, _, budget, _, _, amount, category, payee, description, notes, _ = rows[0]
    assert budget == category == payee == description == notes == exported
    assert amount == "42.50"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"kind": "income"},
        {"category": "food"},
        {"date_after": "2026-01-03", "date_before": "2026-01-10"},
        {"amount_min": "100"},
        {"search": "market"},
        {"ordering": "amount"},
        {"ordering": "-created_at"},
        {"budget": "holiday"},
    ],
)
def test_export_applies_the_lists_filters_and_order(world, as_, params):
    holiday = BudgetFactory(owner=world.owner, name="Holiday", currency="JPY")
    TransactionFactory(budget=holiday, amount_minor=20_000, payee="Hotel", date=datetime.date(2026, 1, 4))
    params = {
        **params,
        **({"category": world.food.pk} if "category" in params else {}),
        **({"budget": holiday.pk} if "budget" in params else {}),
    }
    client = as_("owner")
    listed = [item["id"] for item in client.get(LIST, {**params, "limit": 500}).json()["results"]]
    exported = [int(r[0]) for r in csv_rows(client.get(EXPORT, params))[1:]]
    assert exported == listed
    assert world.foreign_tx.pk not in exported


def test_export_with_a_bad_filter_is_a_json_400(world, as_):
    response = as_("owner").get(EXPORT, {"date_after": "2026-02-30"}, HTTP_ACCEPT="text/csv")
    assert_error(response, 400, attr="date_after")
    assert response["Content-Type"] == "application/json"


def test_export_holds_every_row_not_one_page(world, as_):
    Transaction.objects.bulk_create(
        Transaction(
            budget=world.budget,
            created_by=world.owner,
            kind="expense",
            amount_minor=1,
            date=world.salary.date,
        )
        for _ in range(600)
    )
    rows = csv_rows(as_("owner").get(EXPORT))
    assert len(rows) == 1 + 603
    assert b"Stranger Secret Payee" not in csv_body(as_("owner").get(EXPORT))


def test_export_leaves_the_author_cell_empty_once_their_account_is_deleted(world, as_):
    author = world.household_editor
    tx = TransactionFactory(budget=world.budget, created_by=author, payee="By a departed user")
    author.delete()
    rows = [r for r in csv_rows(as_("owner").get(EXPORT))[1:] if r[0] == str(tx.pk)]
    assert rows[0][8:] == ["By a departed user", "", "", ""]


def test_dry_run_with_create_categories_names_them_and_creates_none(world, as_):
    content = IMPORT_HEADER + "2026-01-05,1.00,expense,Travel,A,,\n2026-01-06,1.00,expense,Gifts,B,,\n"
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, content, dry_run="true", create_categories="true")
    assert response.status_code == 200, response.json()
    assert (response.json()["created"], response.json()["categories_created"]) == (2, ["Gifts", "Travel"])
    assert db_state() == before


def test_an_empty_import_creates_nothing(world, as_):
    before = db_state()
    response = import_csv(as_("owner"), world.budget.pk, IMPORT_HEADER + "\n\n")
    assert response.status_code == 201
    assert response.json() == {"dry_run": False, "created": 0, "skipped": [], "categories_created": []}
    assert db_state() == before
