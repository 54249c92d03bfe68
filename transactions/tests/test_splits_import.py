"""The CSV import's optional paid_by and split_with columns: rows split among the members of
the household the request names, checked and recorded with the rest of the file, all or none."""

import pytest

from budgets.tests.factories import BudgetFactory, share_user
from transactions.models import Split, SplitShare, Transaction
from transactions.splits.selectors import member_nets
from transactions.tests.helpers import csv_file
from transactions.tests.split_helpers import build_home

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/transactions/import/"
HEADER = "date,amount,kind,category,payee,description,notes,paid_by,split_with\n"


@pytest.fixture
def h(db):
    return build_home()


def upload(api, budget, text, **extra):
    return api.post(IMPORT, {"budget": budget.pk, "file": csv_file(text), **extra}, format="multipart")


def test_rows_split_equally_by_weight_or_not_at_all(h, client_for):
    text = HEADER + (
        "2026-03-01,10.00,expense,,Market,,,alice@example.com,\n"
        "2026-03-02,1.00,expense,,Bakery,,,BOB@example.com,bob@example.com:3; carol@example.com:1\n"
        "2026-03-03,30.00,income,,Refund,,,carol@example.com,alice@example.com;carol@example.com\n"
        "2026-03-04,5.00,expense,,Alone,,,,\n"
    )
    response = upload(client_for(h.alice), h.budget, text, household=h.home.pk)
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 4
    by_payee = {
        tx.payee: dict(SplitShare.objects.filter(split_id=tx.pk).values_list("user_id", "amount_minor"))
        for tx in Transaction.objects.filter(budget=h.budget)
    }
    assert by_payee == {
        "Market": {h.alice.pk: 334, h.bob.pk: 333, h.carol.pk: 333},
        "Bakery": {h.bob.pk: 75, h.carol.pk: 25},
        "Refund": {h.alice.pk: -1500, h.carol.pk: -1500},
        "Alone": {},
    }
    assert Split.objects.get(transaction__payee="Bakery").mode == "shares"
    assert sum(member_nets(h.home.pk)["EUR"].values()) == 0


def test_split_rows_are_refused_with_their_line_and_nothing_is_recorded(h, client_for):
    private = BudgetFactory(owner=h.alice, currency="EUR")
    share_user(private, h.bob, "view")
    text = HEADER + (
        "2026-03-01,10.00,expense,,Market,,,dave@example.com,\n"
        "2026-03-02,4.00,expense,,Bakery,,,alice@example.com,alice@example.com;nobody@example.com\n"
        "2026-03-03,4.00,expense,,Kiosk,,,alice@example.com,alice@example.com:x\n"
        "2026-03-04,4.00,expense,,Kiosk,,,,alice@example.com\n"
        "2026-03-05,4.00,expense,,Cafe,,,alice@example.com,carol@example.com\n"
    )
    response = upload(client_for(h.alice), private, text, household=h.home.pk)
    assert response.status_code == 400
    errors = {(e["attr"], e["code"]) for e in response.json()["errors"]}
    assert errors == {
        ("2.paid_by", "not_a_member"),
        ("3.split_with", "not_a_member"),
        ("4.split_with", "invalid"),
        ("5.paid_by", "required"),
        ("6.split_with", "cannot_view_budget"),
    }
    assert not Transaction.objects.filter(budget=private).exists()
    assert not Split.objects.exists()


def test_split_columns_need_one_of_your_households(h, client_for):
    text = HEADER + "2026-03-01,10.00,expense,,Market,,,alice@example.com,\n"
    api = client_for(h.alice)
    without = upload(api, h.budget, text)
    assert (without.status_code, without.json()["errors"][0]["attr"]) == (400, "household")
    foreign = upload(api, h.budget, text, household=h.theirs.pk)
    missing = upload(api, h.budget, text, household=987654)
    assert foreign.status_code == 400 and foreign.json()["errors"][0]["code"] == "does_not_exist"
    assert foreign.json()["errors"][0]["detail"].replace(str(h.theirs.pk), "X") == missing.json()["errors"][
        0
    ]["detail"].replace("987654", "X")
    assert not Transaction.objects.filter(budget=h.budget).exists()


def test_a_dry_run_with_splits_records_nothing(h, client_for):
    text = HEADER + "2026-03-01,10.00,expense,,Market,,,alice@example.com,\n"
    response = upload(client_for(h.alice), h.budget, text, household=h.home.pk, dry_run=True)
    assert response.status_code == 200 and response.json()["created"] == 1
    assert not Split.objects.exists() and not Transaction.objects.filter(budget=h.budget).exists()
