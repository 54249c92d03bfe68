"""A transaction's split on create, PUT, PATCH, delete and in bulk: validated under the
household's and the budget's locks, stored as exact minor units that sum to the amount."""

import pytest
from django.db import connection

from budgets.tests.factories import BudgetFactory, share_user
from transactions.models import Settlement, Split, SplitShare, Transaction
from transactions.splits.selectors import member_nets
from transactions.tests.split_helpers import amounts, build_home, expense, split

pytestmark = pytest.mark.django_db

TX = "/api/v1/transactions/"


@pytest.fixture
def h(db):
    return build_home()


def create(h, client_for, amount, body_split, actor=None, **extra):
    response = client_for(actor or h.alice).post(TX, expense(h, amount, body_split, **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def error(response) -> tuple[int, str, str]:
    (only,) = response.json()["errors"]
    return response.status_code, only["code"], only["attr"]


def stored(tx_id) -> dict[int, int]:
    return dict(SplitShare.objects.filter(split_id=tx_id).values_list("user_id", "amount_minor"))


# --- the modes ------------------------------------------------------------------------------


def test_equal_split_among_all_members_stores_exact_shares(h, client_for):
    body = create(h, client_for, "10.00", split(h, h.alice))
    assert body["split"]["mode"] == "equal"
    assert body["split"]["household"] == h.home.pk
    assert body["split"]["paid_by"] == h.alice.pk
    # The rounding table's first row: the remainder cent goes to the lowest user id.
    assert amounts(body) == {h.alice.pk: "3.34", h.bob.pk: "3.33", h.carol.pk: "3.33"}
    assert stored(body["id"]) == {h.alice.pk: 334, h.bob.pk: 333, h.carol.pk: 333}
    assert set(SplitShare.objects.filter(split_id=body["id"]).values_list("payer_id", flat=True)) == {
        h.alice.pk
    }


def test_equal_split_among_the_listed_members_only(h, client_for):
    body = create(h, client_for, "0.05", split(h, h.bob, shares=[{"user": h.bob.pk}, {"user": h.carol.pk}]))
    assert amounts(body) == {h.bob.pk: "0.03", h.carol.pk: "0.02"}


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        ("exact", [("amount", "2.50"), ("amount", "7.50"), ("amount", "0.00")], ["2.50", "7.50", "0.00"]),
        ("percent", [("percent", "50"), ("percent", "25"), ("percent", "25")], ["5.00", "2.50", "2.50"]),
        (
            "percent",
            [("percent", "33.33"), ("percent", "33.33"), ("percent", "33.34")],
            ["3.33", "3.33", "3.34"],
        ),
        ("shares", [("weight", "1"), ("weight", "2"), ("weight", "0.5")], ["2.86", "5.71", "1.43"]),
    ],
)
def test_each_mode_divides_the_amount_exactly(h, client_for, mode, values, expected):
    users = [h.alice, h.bob, h.carol]
    shares = [{"user": u.pk, key: value} for u, (key, value) in zip(users, values, strict=True)]
    body = create(h, client_for, "10.00", split(h, h.carol, mode, shares))
    assert [amounts(body)[u.pk] for u in users] == expected
    assert sum(stored(body["id"]).values()) == 1000
    share = next(s for s in body["split"]["shares"] if s["user"] == h.bob.pk)
    assert (share["percent"], share["weight"]) == {
        "exact": (None, None),
        "percent": (values[1][1], None),
        "shares": (None, "2"),
    }[mode]


SHOWN_MODES = {
    "equal": lambda h: split(h, h.alice),
    "weights": lambda h: split(
        h, h.bob, "shares", [{"user": h.alice.pk, "weight": "1"}, {"user": h.carol.pk, "weight": "0.5"}]
    ),
    "exact": lambda h: split(
        h, h.carol, "exact", [{"user": h.bob.pk, "amount": "4.00"}, {"user": h.carol.pk, "amount": "5.00"}]
    ),
}


@pytest.mark.parametrize("mode", SHOWN_MODES)
def test_the_split_is_shown_on_read_and_in_the_list(h, client_for, django_assert_max_num_queries, mode):
    """The read, the list, a filtered list and one budget's list show each split's shares as
    the create answered them (PostgreSQL reads them with the page's rows, SQLite after)."""
    body = create(h, client_for, "9.00", SHOWN_MODES[mode](h))
    api = client_for(h.carol)
    assert api.get(f"{TX}{body['id']}/").json()["split"] == body["split"]
    create(h, client_for, "3.00", None)
    with django_assert_max_num_queries(12) as captured:
        page = api.get(TX).json()
    apart = [q for q in captured.captured_queries if q["sql"].startswith('SELECT "transactions_splitshare"')]
    assert len(apart) == (0 if connection.vendor == "postgresql" else 1)
    by_id = {row["id"]: row["split"] for row in page["results"]}
    assert by_id[body["id"]] == body["split"]
    assert [s for s in by_id.values() if s is None]  # the unsplit one says so
    for narrowed in ({"kind": "expense"}, {"budget": h.budget.pk}, {"date_after": "2000-01-01"}):
        rows = api.get(TX, narrowed).json()["results"]
        assert {row["id"]: row["split"] for row in rows}[body["id"]] == body["split"], narrowed


# --- refusals -------------------------------------------------------------------------------


def test_exact_amounts_must_add_up(h, client_for):
    shares = [{"user": h.alice.pk, "amount": "4.00"}, {"user": h.bob.pk, "amount": "5.00"}]
    response = client_for(h.alice).post(
        TX, expense(h, "10.00", split(h, h.alice, "exact", shares)), format="json"
    )
    assert error(response) == (400, "split_total_mismatch", "split.shares")
    assert not Transaction.objects.filter(amount_minor=1000).exists()


def test_percentages_must_add_up_to_100(h, client_for):
    shares = [{"user": h.alice.pk, "percent": "60"}, {"user": h.bob.pk, "percent": "30"}]
    response = client_for(h.alice).post(
        TX, expense(h, "10.00", split(h, h.alice, "percent", shares)), format="json"
    )
    assert error(response) == (400, "percent_total", "split.shares")


def test_each_mode_needs_its_value_and_each_member_once(h, client_for):
    api = client_for(h.alice)
    missing = split(h, h.alice, "shares", [{"user": h.alice.pk, "weight": "1"}, {"user": h.bob.pk}])
    assert error(api.post(TX, expense(h, "1.00", missing), format="json")) == (
        400,
        "required",
        "split.shares.1.weight",
    )
    twice = split(h, h.alice, "equal", [{"user": h.bob.pk}, {"user": h.bob.pk}])
    assert error(api.post(TX, expense(h, "1.00", twice), format="json")) == (
        400,
        "duplicate_member",
        "split.shares",
    )
    empty = split(h, h.alice, "exact", [])
    assert error(api.post(TX, expense(h, "1.00", empty), format="json")) == (400, "empty", "split.shares")
    cents = split(h, h.alice, "exact", [{"user": h.alice.pk, "amount": "1.001"}])
    assert error(api.post(TX, expense(h, "1.00", cents), format="json")) == (
        400,
        "max_decimal_places",
        "split.shares.0.amount",
    )
    assert not Split.objects.exists()


def test_payer_and_members_must_be_current_members(h, client_for):
    api = client_for(h.alice)
    response = api.post(TX, expense(h, "1.00", split(h, h.dave)), format="json")
    assert error(response) == (400, "not_a_member", "split.paid_by")
    stranger = api.post(
        TX,
        expense(h, "1.00", split(h, h.alice, shares=[{"user": h.alice.pk}, {"user": h.dave.pk}])),
        format="json",
    )
    unknown = api.post(
        TX,
        expense(h, "1.00", split(h, h.alice, shares=[{"user": h.alice.pk}, {"user": 987654}])),
        format="json",
    )
    assert error(stranger) == (400, "not_a_member", "split.shares.1.user")
    # A stranger and an id nobody has read alike, apart from the id itself.
    assert stranger.json()["errors"][0]["detail"].replace(str(h.dave.pk), "X") == unknown.json()["errors"][0][
        "detail"
    ].replace("987654", "X")
    assert not Transaction.objects.filter(budget=h.budget, amount_minor=100).exists()


def test_a_foreign_household_reads_like_an_unknown_one(h, client_for):
    api = client_for(h.alice)
    foreign = api.post(TX, expense(h, "1.00", {**split(h, h.alice), "household": h.theirs.pk}), format="json")
    missing = api.post(TX, expense(h, "1.00", {**split(h, h.alice), "household": 987654}), format="json")
    assert error(foreign) == (400, "does_not_exist", "split.household")
    assert foreign.json()["errors"][0]["detail"].replace(str(h.theirs.pk), "X") == missing.json()["errors"][
        0
    ]["detail"].replace("987654", "X")


def test_every_participant_must_see_the_budget(h, client_for):
    private = BudgetFactory(owner=h.alice, currency="EUR")
    share_user(private, h.bob, "view")
    api = client_for(h.alice)
    body = {**expense(h, "6.00", split(h, h.alice)), "budget": private.pk}
    assert error(api.post(TX, body, format="json")) == (400, "cannot_view_budget", "split.shares")
    listed = split(h, h.alice, shares=[{"user": h.bob.pk}, {"user": h.carol.pk}])
    assert error(api.post(TX, {**body, "split": listed}, format="json")) == (
        400,
        "cannot_view_budget",
        "split.shares.1.user",
    )
    with_bob = split(h, h.bob, shares=[{"user": h.alice.pk}, {"user": h.bob.pk}])
    assert api.post(TX, {**body, "split": with_bob}, format="json").status_code == 201


def test_a_viewer_of_the_budget_cannot_split_its_transactions(h, client_for):
    viewer_only = BudgetFactory(owner=h.alice, currency="EUR")
    share_user(viewer_only, h.carol, "view")
    share_user(viewer_only, h.bob, "view")
    response = client_for(h.carol).post(
        TX, {**expense(h, "3.00", split(h, h.carol)), "budget": viewer_only.pk}, format="json"
    )
    assert response.status_code == 403
    assert not Split.objects.exists()


# --- income, changes, removal ---------------------------------------------------------------


def test_an_income_split_reverses_the_direction(h, client_for):
    body = create(h, client_for, "30.00", split(h, h.bob), kind="income")
    assert amounts(body) == {h.alice.pk: "10.00", h.bob.pk: "10.00", h.carol.pk: "10.00"}
    # Bob received 30.00 for all three: he owes Alice and Carol their 10.00 each.
    assert member_nets(h.home.pk) == {"EUR": {h.alice.pk: 1000, h.bob.pk: -2000, h.carol.pk: 1000}}


def test_a_changed_amount_divides_again_the_same_way(h, client_for):
    body = create(
        h,
        client_for,
        "10.00",
        split(
            h,
            h.alice,
            "percent",
            [{"user": h.alice.pk, "percent": "50"}, {"user": h.bob.pk, "percent": "50"}],
        ),
    )
    patched = client_for(h.bob).patch(f"{TX}{body['id']}/", {"amount": "0.05"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["split"]["mode"] == "percent"
    assert amounts(patched.json()) == {h.alice.pk: "0.03", h.bob.pk: "0.02"}
    assert stored(body["id"]) == {h.alice.pk: 3, h.bob.pk: 2}


def test_a_changed_kind_turns_the_shares_around(h, client_for):
    body = create(h, client_for, "9.00", split(h, h.alice))
    client_for(h.alice).patch(f"{TX}{body['id']}/", {"kind": "income"}, format="json")
    assert stored(body["id"]) == {h.alice.pk: -300, h.bob.pk: -300, h.carol.pk: -300}


def test_exact_mode_with_a_changed_amount_asks_for_new_shares(h, client_for):
    shares = [{"user": h.alice.pk, "amount": "4.00"}, {"user": h.bob.pk, "amount": "6.00"}]
    body = create(h, client_for, "10.00", split(h, h.alice, "exact", shares))
    api = client_for(h.alice)
    refused = api.patch(f"{TX}{body['id']}/", {"amount": "12.00"}, format="json")
    assert error(refused) == (400, "split_shares_required", "split")
    assert Transaction.objects.get(pk=body["id"]).amount_minor == 1000  # nothing changed
    new = [{"user": h.alice.pk, "amount": "5.00"}, {"user": h.bob.pk, "amount": "7.00"}]
    accepted = api.patch(
        f"{TX}{body['id']}/", {"amount": "12.00", "split": split(h, h.alice, "exact", new)}, format="json"
    )
    assert accepted.status_code == 200, accepted.json()
    assert stored(body["id"]) == {h.alice.pk: 500, h.bob.pk: 700}


def test_put_replaces_the_split_and_null_removes_it(h, client_for):
    body = create(h, client_for, "10.00", split(h, h.alice))
    api = client_for(h.alice)
    put = api.put(
        f"{TX}{body['id']}/",
        expense(h, "8.00", split(h, h.carol, shares=[{"user": h.carol.pk}, {"user": h.bob.pk}])),
        format="json",
    )
    assert put.status_code == 200, put.json()
    assert put.json()["split"]["paid_by"] == h.carol.pk
    assert stored(body["id"]) == {h.bob.pk: 400, h.carol.pk: 400}
    removed = api.patch(f"{TX}{body['id']}/", {"split": None}, format="json")
    assert removed.status_code == 200
    assert removed.json()["split"] is None
    assert not SplitShare.objects.exists() and not Split.objects.exists()
    assert member_nets(h.home.pk) == {}


def test_a_change_that_leaves_the_amount_alone_keeps_the_shares(h, client_for):
    body = create(h, client_for, "10.00", split(h, h.alice))
    before = list(SplitShare.objects.filter(split_id=body["id"]).values_list("pk", flat=True))
    patched = client_for(h.alice).patch(f"{TX}{body['id']}/", {"payee": "Bakery"}, format="json")
    assert patched.json()["split"] == body["split"]
    assert list(SplitShare.objects.filter(split_id=body["id"]).values_list("pk", flat=True)) == before


def test_deleting_a_split_transaction_removes_its_shares_not_the_settlements(h, client_for):
    body = create(h, client_for, "9.00", split(h, h.alice))
    paid = client_for(h.bob).post(
        f"/api/v1/households/{h.home.pk}/settlements/",
        {"from": h.bob.pk, "to": h.alice.pk, "amount": "3.00", "currency": "EUR", "date": "2026-03-15"},
        format="json",
    )
    assert paid.status_code == 201
    assert client_for(h.alice).delete(f"{TX}{body['id']}/").status_code == 204
    assert not SplitShare.objects.exists() and not Split.objects.exists()
    assert Settlement.objects.count() == 1
    # The payment still stands: Alice now owes Bob what he paid her.
    assert member_nets(h.home.pk) == {"EUR": {h.alice.pk: -300, h.bob.pk: 300}}


# --- bulk -----------------------------------------------------------------------------------


def test_bulk_creates_splits_with_their_transactions(h, client_for):
    items = [
        expense(h, "10.00", split(h, h.alice)),
        expense(h, "4.00", None),
        expense(
            h,
            "1.00",
            split(
                h, h.bob, "shares", [{"user": h.bob.pk, "weight": "3"}, {"user": h.carol.pk, "weight": "1"}]
            ),
        ),
    ]
    response = client_for(h.alice).post(f"{TX}bulk/", items, format="json")
    assert response.status_code == 201, response.json()
    first, second, third = response.json()
    assert amounts(first) == {h.alice.pk: "3.34", h.bob.pk: "3.33", h.carol.pk: "3.33"}
    assert second["split"] is None
    assert amounts(third) == {h.bob.pk: "0.75", h.carol.pk: "0.25"}


def test_bulk_names_the_item_whose_split_is_refused_and_records_nothing(h, client_for):
    items = [expense(h, "10.00", split(h, h.alice)), expense(h, "2.00", split(h, h.dave))]
    response = client_for(h.alice).post(f"{TX}bulk/", items, format="json")
    assert error(response) == (400, "not_a_member", "1.split.paid_by")
    assert not Transaction.objects.filter(budget=h.budget).exists()
    assert not Split.objects.exists()


def test_deleting_the_budget_takes_its_splits_in_the_database(h, client_for):
    """The budget's cascade deletes its transactions in one statement; the trigger takes
    their splits and shares with them (Django's collector never reads the rows)."""
    create(h, client_for, "9.00", split(h, h.alice))
    create(h, client_for, "6.00", split(h, h.bob))
    assert client_for(h.alice).delete(f"/api/v1/budgets/{h.budget.pk}/").status_code == 204
    assert not Split.objects.exists() and not SplitShare.objects.exists()
    assert member_nets(h.home.pk) == {}
