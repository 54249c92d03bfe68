"""An export imports back as it is, and a dry run answers what the real run answers.

The round trip: export a budget, import the file into a new budget of the same currency,
export that one; every row comes back with its date, amount, kind, category name, payee,
description and notes exactly as they were, formula-looking text included. The dry run:
for each file, the dry run's status and body are the real run's (200 for 201, dry_run true),
and the dry run writes nothing."""

import datetime

import pytest

from budgets.tests.factories import BudgetFactory, CategoryFactory
from server.tests.helpers import assert_error
from transactions import csv_io
from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import EXPORT, IMPORT_HEADER, csv_body, csv_rows, db_state, import_csv

pytestmark = pytest.mark.django_db

# What carries over from one budget to another: every column but id, budget_id, budget,
# currency and created_by.
CARRIED = ("date", "kind", "amount", "category", "payee", "description", "notes")
TRICKY_TEXTS = [
    "Employer, Inc.",
    'He said "hi", then left',
    "line one\nline two",
    "line one\r\nline two",
    "Café Ümlaut — 東京 ☕",
    "=SUM(A1)",
    "+1",
    "-5",
    "@x",
    "\t=1",
    "'=already quoted",
    "''+twice",
    "'tis the season",
    "'",
    "plain = text",
]


def _carried(response) -> list[tuple]:
    rows = csv_rows(response)
    header = rows[0]
    assert header == list(csv_io.EXPORT_COLUMNS)
    return sorted(tuple(row[header.index(name)] for name in CARRIED) for row in rows[1:])


def _stored(budget) -> list[tuple]:
    return sorted(
        Transaction.objects.filter(budget=budget).values_list(
            "date", "kind", "amount_minor", "category__name", "payee", "description", "notes"
        )
    )


def _varied_budget(owner, currency: str, amounts: list[int]):
    budget = BudgetFactory(owner=owner, currency=currency, name=f"Old {currency}")
    food = CategoryFactory(budget=budget, name="Food")
    formula = CategoryFactory(budget=budget, name="=Cat, with comma")
    categories = [None, food, formula]
    day = datetime.date(2026, 1, 1)
    for i, text in enumerate(TRICKY_TEXTS):
        TransactionFactory(
            budget=budget,
            kind="income" if i % 4 == 0 else "expense",
            category=categories[i % 3],
            amount_minor=amounts[i % len(amounts)],
            date=day + datetime.timedelta(days=i % 5),  # several rows a day
            payee=text,
            description=TRICKY_TEXTS[-1 - i],
            notes=f"{text} #{i}",
        )
    return budget


@pytest.mark.parametrize(
    ("currency", "amounts"),
    [("EUR", [1, 1_230, 250_000, 999_999_999_999]), ("JPY", [1, 1_500, 999_999_999_999])],
)
def test_an_export_imports_into_a_new_budget_and_exports_the_same(world, as_, currency, amounts):
    old = _varied_budget(world.owner, currency, amounts)
    new = BudgetFactory(owner=world.owner, currency=currency, name=f"New {currency}")
    client = as_("owner")
    exported = client.get(EXPORT, {"budget": old.pk})
    assert len(csv_rows(exported)) == 1 + len(TRICKY_TEXTS)

    response = import_csv(client, new.pk, csv_body(exported), create_categories="true")

    assert response.status_code == 201, response.json()
    assert response.json() == {
        "dry_run": False,
        "created": len(TRICKY_TEXTS),
        "skipped": [],
        "categories_created": ["=Cat, with comma", "Food"],
    }
    assert _stored(new) == _stored(old)  # the texts exactly, not their neutralised cells
    assert _carried(client.get(EXPORT, {"budget": new.pk})) == _carried(exported)
    assert set(Transaction.objects.filter(budget=new).values_list("created_by_id", flat=True)) == {
        world.owner.pk
    }


def test_an_exports_category_names_match_the_new_budgets_categories_in_any_case(world, as_):
    old = BudgetFactory(owner=world.owner)
    TransactionFactory(budget=old, category=CategoryFactory(budget=old, name="Food"), payee="A")
    TransactionFactory(budget=old, category=CategoryFactory(budget=old, name="=Fees"), payee="B")
    new = BudgetFactory(owner=world.owner)
    food = CategoryFactory(budget=new, name="FOOD")
    fees = CategoryFactory(budget=new, name="=fees")
    file = csv_body(as_("owner").get(EXPORT, {"budget": old.pk}))
    response = import_csv(as_("owner"), new.pk, file)
    assert response.status_code == 201, response.json()
    assert response.json()["categories_created"] == []
    assert dict(Transaction.objects.filter(budget=new).values_list("payee", "category_id")) == {
        "A": food.pk,
        "B": fees.pk,
    }


def test_an_exports_unknown_categories_are_errors_without_create_categories(world, as_):
    old = BudgetFactory(owner=world.owner)
    TransactionFactory(budget=old, category=CategoryFactory(budget=old, name="=Fees"), payee="A")
    new = BudgetFactory(owner=world.owner)
    file = csv_body(as_("owner").get(EXPORT, {"budget": old.pk}))
    before = db_state()
    body = assert_error(import_csv(as_("owner"), new.pk, file), 400)
    assert body["errors"] == [
        {"code": "unknown_category", "detail": 'This budget has no category "=Fees".', "attr": "2.category"}
    ]
    assert db_state() == before


def test_an_export_imported_into_its_own_budget_skips_every_row(world, as_):
    client = as_("owner")
    file = csv_body(client.get(EXPORT, {"budget": world.budget.pk}))
    before = db_state()
    response = import_csv(client, world.budget.pk, file)
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 0
    assert response.json()["skipped"] == [{"line": n, "reason": "duplicate_of_existing"} for n in (2, 3, 4)]
    assert db_state() == before


def test_an_export_in_another_currency_is_refused_row_by_row(world, as_):
    yen = BudgetFactory(owner=world.owner, currency="JPY")
    TransactionFactory(budget=yen, amount_minor=1_500, payee="A", date=datetime.date(2026, 1, 2))
    TransactionFactory(budget=yen, amount_minor=20, payee="B", date=datetime.date(2026, 1, 1))
    file = csv_body(as_("owner").get(EXPORT, {"budget": yen.pk}))
    before = db_state()
    body = assert_error(import_csv(as_("owner"), world.budget.pk, file), 400)
    assert body["errors"] == [
        {
            "code": "currency_mismatch",
            "detail": "This row is in JPY; the budget's amounts are in EUR.",
            "attr": f"{line}.currency",
        }
        for line in (2, 3)
    ]
    assert db_state() == before


def test_a_blank_or_lower_case_currency_cell_is_the_budgets(world, as_):
    content = (
        "date,amount,kind,category,payee,description,notes,currency\n"
        "2026-01-05,1.00,expense,,A,,,\n"
        "2026-01-06,2.00,expense,,B,,,eur\n"
    )
    response = import_csv(as_("owner"), world.budget.pk, content)
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 2


def test_the_exports_other_columns_are_ignored_whatever_they_say(world, as_):
    content = (
        "created_by,budget,budget_id,id,date,amount,kind,category,payee,description,notes\n"
        f"nobody@example.com,Someone else's,{world.foreign_budget.pk},{world.foreign_tx.pk},"
        "2026-01-05,1.00,expense,Food,A,,\n"
    )
    response = import_csv(as_("owner"), world.budget.pk, content)
    assert response.status_code == 201, response.json()
    created = Transaction.objects.get(payee="A")
    assert (created.budget_id, created.created_by_id, created.category_id) == (
        world.budget.pk,
        world.owner.pk,
        world.food.pk,
    )
    assert created.pk != world.foreign_tx.pk
    assert Transaction.objects.get(pk=world.foreign_tx.pk).payee == world.foreign_tx.payee


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("date,amount,kind,category,payee,description,notes,tags", "unknown: tags"),
        ("date,amount,kind,category,payee,description,notes,", "unknown: (blank)"),
        ("id,date,amount,kind,category,payee,description", "missing: notes"),
        ("date,amount,kind,category,payee,description,notes,payee", "repeated: payee"),
        ("date,amount,kind,category,payee,description,notes,id,ID", "repeated: id"),
    ],
)
def test_a_header_with_other_columns_is_400_invalid_header_naming_them(world, as_, header, named):
    width = header.count(",") + 1
    row = ",".join(["2026-01-05", "1.00", "expense", "", "A"] + [""] * (width - 5))
    before = db_state()
    for dry_run in ("true", "false"):
        body = assert_error(
            import_csv(as_("owner"), world.budget.pk, f"{header}\n{row}\n", dry_run=dry_run),
            400,
            "invalid_header",
            attr=None,
        )
        assert named in body["errors"][0]["detail"]
    assert db_state() == before


def test_every_export_column_is_accepted_on_import():
    assert set(csv_io.EXPORT_COLUMNS) <= csv_io.ACCEPTED_COLUMNS
    assert set(csv_io.EXPORT_COLUMNS) - set(csv_io.IMPORT_COLUMNS) == {
        "id",
        "budget_id",
        "budget",
        "currency",
        "created_by",
    }


# Neutralisation ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*TRICKY_TEXTS, "", "''", "'-", "-", "'\t", "a'=b"])
def test_unneutralise_undoes_neutralise(text):
    assert csv_io.unneutralise(csv_io.neutralise(text)) == text


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        ("'=1+1", "=1+1"),
        ("''=1", "'=1"),
        ("'tis", "'tis"),  # not a quote the export adds: kept
        ("'", "'"),
        ("=1+1", "=1+1"),  # an unneutralised formula is text like any other
        ("'12", "'12"),
    ],
)
def test_import_drops_only_the_quote_the_export_adds(world, as_, cell, text):
    content = IMPORT_HEADER + f"2026-01-05,1.00,expense,,{cell},{cell},{cell}\n"
    response = import_csv(as_("owner"), world.budget.pk, content)
    assert response.status_code == 201, response.json()
    created = Transaction.objects.get(budget=world.budget, date="2026-01-05")
    assert (created.payee, created.description, created.notes) == (text, text, text)


def test_a_neutralised_cell_is_measured_without_its_quote(world, as_):
    payee = "=" + "x" * 199  # 200 characters, the limit; the export writes 201
    TransactionFactory(budget=world.budget, payee=payee, date=datetime.date(2026, 2, 1))
    file = csv_body(as_("owner").get(EXPORT, {"budget": world.budget.pk}))
    assert f"'{payee}".encode() in file
    new = BudgetFactory(owner=world.owner)
    response = import_csv(as_("owner"), new.pk, file, create_categories="true")
    assert response.status_code == 201, response.json()
    assert Transaction.objects.filter(budget=new, payee=payee).count() == 1


def test_an_amount_is_never_unneutralised(world, as_):
    content = IMPORT_HEADER + "2026-01-05,'-5,expense,,A,,\n2026-01-06,-5,expense,,B,,\n"
    before = db_state()
    body = assert_error(import_csv(as_("owner"), world.budget.pk, content), 400)
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [
        ("2.amount", "invalid"),
        ("3.amount", "min_value"),
    ]
    assert db_state() == before


# Line numbers --------------------------------------------------------------------------------


def test_a_rows_line_is_the_file_line_it_starts_on(world, as_):
    content = (
        IMPORT_HEADER
        + '2026-01-05,1.00,expense,,"two\nlines",,\n'  # lines 2-3
        + "\n"  # line 4: blank, skipped
        + '2026-01-06,abc,expense,,"three\nmore\nlines",,\n'  # lines 5-7
        + "2026-01-07,1.00,refund,,C,,\n"  # line 8
    )
    before = db_state()
    body = assert_error(import_csv(as_("owner"), world.budget.pk, content), 400)
    assert [(e["attr"], e["code"]) for e in body["errors"]] == [
        ("5.amount", "invalid"),
        ("8.kind", "invalid_choice"),
    ]
    assert db_state() == before


def test_skipped_rows_are_named_by_the_line_they_start_on(world, as_):
    row = '2026-01-05,1.00,expense,,"two\nlines",,\n'
    response = import_csv(as_("owner"), world.budget.pk, IMPORT_HEADER + row + row)
    assert response.status_code == 201, response.json()
    assert response.json()["skipped"] == [{"line": 4, "reason": "duplicate_in_file"}]


# Dry run = real run --------------------------------------------------------------------------

ROW = "2026-03-{day:02d},{amount},{kind},{category},{payee},,\n"


def _row(day=1, amount="1.00", kind="expense", category="", payee="Shop"):
    return ROW.format(day=day, amount=amount, kind=kind, category=category, payee=payee)


PARITY_FILES = {
    "valid": IMPORT_HEADER + _row(1) + _row(2, kind="income", category="Food") + _row(3, category="rent"),
    "one bad row": IMPORT_HEADER + _row(1) + _row(2, amount="1.999") + _row(3),
    "bad rows in several fields": IMPORT_HEADER
    + _row(1, amount="abc")
    + "2026-02-30,1.00,refund,,A,,\n"
    + _row(3, category="Travel")
    + "2026-03-04,1.00\n"
    + _row(5, payee="x" * 201)
    + _row(6),
    "duplicates": IMPORT_HEADER
    + "2026-01-10,42.50,expense,,Market,weekly shop,\n"  # world.groceries
    + _row(1)
    + _row(1)
    + _row(2),
    "duplicates and a bad row": IMPORT_HEADER + _row(1) + _row(1) + _row(2, kind="gift"),
    "new categories": IMPORT_HEADER + _row(1, category="Travel") + _row(2, category="travel") + _row(3),
    "another currency": "date,amount,kind,category,payee,description,notes,currency\n"
    "2026-03-01,1.00,expense,,A,,,EUR\n2026-03-02,100,expense,,B,,,JPY\n",
    "empty": IMPORT_HEADER,
    "bad header": "date,amount,kind,category,payee,description,notes,tags\n" + _row(1).rstrip("\n") + ",x\n",
}


@pytest.mark.parametrize("name", PARITY_FILES)
@pytest.mark.parametrize("create_categories", ["false", "true"])
def test_the_dry_run_answers_what_the_real_run_answers(world, as_, name, create_categories):
    content = PARITY_FILES[name]
    client = as_("editor")
    before = db_state()

    dry = import_csv(client, world.budget.pk, content, dry_run="true", create_categories=create_categories)
    assert db_state() == before
    real = import_csv(client, world.budget.pk, content, create_categories=create_categories)

    if real.status_code == 201:
        assert dry.status_code == 200, dry.json()
        assert dry.json() == {**real.json(), "dry_run": True}
        assert Transaction.objects.count() == len(before["transactions"]) + real.json()["created"]
    else:
        assert real.status_code == 400
        assert (dry.status_code, dry.json()) == (real.status_code, real.json())
        assert db_state() == before


def test_the_dry_run_of_a_viewer_is_refused_as_the_real_run_is(world, as_):
    client = as_("viewer")
    before = db_state()
    dry = import_csv(client, world.budget.pk, PARITY_FILES["valid"], dry_run="true")
    real = import_csv(client, world.budget.pk, PARITY_FILES["valid"])
    assert_error(real, 403, "permission_denied")
    assert (dry.status_code, dry.json()) == (real.status_code, real.json())
    assert db_state() == before


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_outside_any_test_transaction_is_rolled_back_whole(client_for):
    """As in production, where the import's atomic block is the outermost one (not a
    savepoint inside the test's transaction)."""
    budget = BudgetFactory()
    client = client_for(budget.owner)
    content = PARITY_FILES["new categories"]
    dry = import_csv(client, budget.pk, content, dry_run="true", create_categories="true")
    assert dry.json() == {"dry_run": True, "created": 3, "skipped": [], "categories_created": ["Travel"]}
    assert not Transaction.objects.filter(budget=budget).exists()
    assert not budget.categories.exists()
    real = import_csv(client, budget.pk, content, create_categories="true")
    assert real.status_code == 201
    assert real.json() == {**dry.json(), "dry_run": False}
    assert Transaction.objects.filter(budget=budget).count() == 3
    assert list(budget.categories.values_list("name", flat=True)) == ["Travel"]
