"""households/{id}/ledger/, balances/, debts/ and settlements/, and the membership rules that
shared costs add: who may read and write what, and what a departure needs first."""

import pytest

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, share_household
from households.models import Membership
from households.services import membership_leave
from households.tests.factories import add_member
from transactions.models import Settlement, SettlementKind
from transactions.splits.selectors import member_nets
from transactions.tests.split_helpers import DAY, build_home, expense, split

pytestmark = pytest.mark.django_db

TX = "/api/v1/transactions/"


def url(h, route: str) -> str:
    return f"/api/v1/households/{h.home.pk}/{route}/"


@pytest.fixture
def h(db):
    return build_home()


def record(h, client_for, amount="9.00", paid_by=None, **extra):
    response = client_for(h.alice).post(
        TX, expense(h, amount, split(h, paid_by or h.alice), **extra), format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def settle(h, client_for, actor, sender, receiver, amount, currency="EUR", **extra):
    body = {
        "from": sender.pk,
        "to": receiver.pk,
        "amount": amount,
        "currency": currency,
        "date": "2026-03-20",
    }
    return client_for(actor).post(url(h, "settlements"), {**body, **extra}, format="json")


def codes(response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def nets_of(body) -> dict[str, dict[str, str]]:
    return {c["currency"]: {b["user"]["email"]: b["net"] for b in c["balances"]} for c in body}


# --- who may do what ------------------------------------------------------------------------

ACTIONS = ("ledger", "balances", "debts", "settlements", "settle", "delete_settlement")
# Alice (owner), Bob (admin), Carol (member), Dave (a stranger), Erin (a former member), anonymous.
EXPECTED = {
    "alice": (200, 200, 200, 200, 201, 204),
    "bob": (200, 200, 200, 200, 201, 403),
    "carol": (200, 200, 200, 200, 403, 204),
    "dave": (404, 404, 404, 404, 404, 404),
    "erin": (404, 404, 404, 404, 404, 404),
    "anonymous": (401, 401, 401, 401, 401, 401),
}


@pytest.mark.parametrize("actor", EXPECTED)
def test_actor_by_action(h, client_for, anon, actor):
    erin = UserFactory(email="erin@example.com")
    add_member(h.home, erin)
    membership_leave(household=h.home, user=erin)
    record(h, client_for)
    # Recorded by Carol between Carol and Bob: Bob may not delete it, the owner may.
    theirs = settle(h, client_for, h.carol, h.carol, h.bob, "1.00").json()["id"]
    users = {"alice": h.alice, "bob": h.bob, "carol": h.carol, "dave": h.dave, "erin": erin}
    api = anon if actor == "anonymous" else client_for(users[actor])
    # Carol records a payment between Alice and Bob: refused, she is neither and no admin.
    sent = settle(h, lambda _: api, None, h.alice, h.bob, "2.00")
    answers = (
        api.get(url(h, "ledger")),
        api.get(url(h, "balances")),
        api.get(url(h, "debts")),
        api.get(url(h, "settlements")),
        sent,
        api.delete(f"{url(h, 'settlements')}{theirs}/"),
    )
    assert tuple(a.status_code for a in answers) == EXPECTED[actor], [a.content[:200] for a in answers]
    missing = "/api/v1/households/987654/"
    if actor in ("dave", "erin"):
        # A household they are not in reads exactly like one that does not exist.
        for answer, route in zip(answers[:4], ("ledger", "balances", "debts", "settlements"), strict=True):
            assert answer.content == api.get(f"{missing}{route}/").content
    if EXPECTED[actor][4] != 201:
        assert not Settlement.objects.filter(amount_minor=200).exists()
    if EXPECTED[actor][5] != 204:
        assert Settlement.objects.filter(pk=theirs).exists()
    if actor == "carol":
        assert codes(sent) == ["cannot_record_settlement"]
    if actor == "bob":
        assert codes(answers[5]) == ["cannot_delete_settlement"]


def test_a_former_member_no_longer_sees_the_ledger(h, client_for):
    record(h, client_for)
    api = client_for(h.carol)
    assert api.get(url(h, "ledger")).json()["count"] == 1
    settle(h, client_for, h.carol, h.carol, h.alice, "3.00")
    assert api.post(f"/api/v1/households/{h.home.pk}/leave/").status_code == 204
    gone = api.get(url(h, "ledger"))
    assert gone.status_code == 404
    assert gone.content == api.get("/api/v1/households/987654/ledger/").content


# --- the ledger -----------------------------------------------------------------------------


def test_the_ledger_lists_splits_and_settlements_newest_first(h, client_for):
    tx = record(h, client_for, "10.00", notes="SECRET-NOTE", description="SECRET-DESC")
    paid = settle(h, client_for, h.bob, h.bob, h.alice, "3.33", note="cash").json()
    response = client_for(h.carol).get(url(h, "ledger"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    payment, line = body["results"]
    assert payment == {
        "type": "payment",
        "date": "2026-03-20",
        "currency": "EUR",
        "amount": "3.33",
        "transaction": None,
        "kind": None,
        "payee": None,
        "paid_by": None,
        "shares": None,
        "settlement": paid["id"],
        "from": {"id": h.bob.pk, "email": h.bob.email},
        "to": {"id": h.alice.pk, "email": h.alice.email},
        "note": "cash",
    }
    assert line["type"] == "split" and line["transaction"] == tx["id"]
    assert (line["date"], line["amount"], line["currency"], line["payee"], line["kind"]) == (
        DAY.isoformat(),
        "10.00",
        "EUR",
        "Market",
        "expense",
    )
    assert line["paid_by"] == {"id": h.alice.pk, "email": h.alice.email}
    assert [(s["user"]["id"], s["amount"]) for s in line["shares"]] == [
        (h.alice.pk, "3.34"),
        (h.bob.pk, "3.33"),
        (h.carol.pk, "3.33"),
    ]
    # The transaction's other fields still follow its budget.
    assert b"SECRET" not in response.content


def test_the_ledger_outlives_the_budgets_sharing(h, client_for):
    record(h, client_for, "6.00")
    assert (
        client_for(h.alice)
        .delete(f"/api/v1/budgets/{h.budget.pk}/shares/households/{h.home.pk}/")
        .status_code
        == 204
    )
    api = client_for(h.carol)
    tx_id = api.get(url(h, "ledger")).json()["results"][0]["transaction"]
    assert api.get(f"{TX}{tx_id}/").status_code == 404  # the transaction itself follows the budget
    assert api.get(url(h, "ledger")).json()["results"][0]["amount"] == "6.00"


def test_the_ledger_filters_by_member_dates_and_currency(h, client_for):
    dollars = BudgetFactory(owner=h.alice, currency="USD")
    share_household(dollars, h.home, "view")
    record(h, client_for, "9.00")
    only_bob_carol = split(h, h.bob, shares=[{"user": h.bob.pk}, {"user": h.carol.pk}])
    client_for(h.alice).post(
        TX, {**expense(h, "4.00", only_bob_carol), "budget": dollars.pk, "date": "2026-04-02"}, format="json"
    )
    settle(h, client_for, h.alice, h.alice, h.bob, "1.00", date="2026-05-01")
    api = client_for(h.carol)

    def types(**params):
        return [(e["type"], e["currency"]) for e in api.get(url(h, "ledger"), params).json()["results"]]

    assert types() == [("payment", "EUR"), ("split", "USD"), ("split", "EUR")]
    assert types(member=h.alice.pk) == [("payment", "EUR"), ("split", "EUR")]
    assert types(member=h.dave.pk) == []
    assert types(currency="USD") == [("split", "USD")]
    assert types(date_after="2026-04-01", date_before="2026-04-30") == [("split", "USD")]
    assert types(member="", currency="") == types()  # empty reads as left out
    bad = api.get(url(h, "ledger"), {"date_after": "soon"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "date_after"
    page = api.get(url(h, "ledger"), {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [e["currency"] for e in page["results"]] == ["USD"]


# --- balances and debts ---------------------------------------------------------------------


def test_balances_per_member_and_currency_sum_to_zero(h, client_for):
    record(h, client_for, "10.00")  # Alice paid for three
    record(h, client_for, "30.00", paid_by=h.bob, kind="income")  # Bob received 30.00 for three
    settle(h, client_for, h.carol, h.carol, h.alice, "1.00", currency="JPY")
    body = client_for(h.bob).get(url(h, "balances")).json()
    assert nets_of(body) == {
        "EUR": {"alice@example.com": "16.66", "bob@example.com": "-23.33", "carol@example.com": "6.67"},
        "JPY": {"alice@example.com": "-1", "bob@example.com": "0", "carol@example.com": "1"},
    }
    for currency in member_nets(h.home.pk).values():
        assert sum(currency.values()) == 0


def test_debts_pairwise_and_simplified(h, client_for):
    record(h, client_for, "9.00")  # Bob and Carol owe Alice 3.00 each
    record(h, client_for, "6.00", paid_by=h.bob)  # Alice and Carol owe Bob 2.00 each
    api = client_for(h.carol)

    def debts(**params):
        body = api.get(url(h, "debts"), params).json()
        return body["simplified"], [
            (d["from"]["email"][0], d["to"]["email"][0], d["amount"]) for d in body["debts"]
        ]

    assert debts() == debts(simplify="false")  # pairwise unless asked
    simplified, transfers = debts(simplify="true")
    assert simplified is True
    # Nets: Alice +4.00, Bob +1.00, Carol -5.00: Carol pays the largest creditor first.
    assert transfers == [("c", "a", "4.00"), ("c", "b", "1.00")]
    original = debts(simplify="false")
    assert original == (False, [("b", "a", "1.00"), ("c", "a", "3.00"), ("c", "b", "2.00")])
    assert api.get(url(h, "debts"), {"simplify": "maybe"}).status_code == 400


def test_balances_and_debts_take_a_fixed_number_of_queries(h, client_for, django_assert_num_queries):
    api = client_for(h.carol)
    counts = []
    for n in (1, 12):
        while Settlement.objects.count() < n:
            record(h, client_for, "1.00")
            settle(h, client_for, h.carol, h.carol, h.alice, "0.01")
        with django_assert_num_queries(5) as balances:
            assert api.get(url(h, "balances")).status_code == 200
        with django_assert_num_queries(5):
            assert api.get(url(h, "debts"), {"simplify": "true"}).status_code == 200
        counts.append(len(balances.captured_queries))
    assert counts[0] == counts[1]


# --- settlements ----------------------------------------------------------------------------


def test_a_settlement_moves_balances_and_is_not_budget_spending(h, client_for):
    record(h, client_for, "9.00")
    before = client_for(h.alice).get(f"/api/v1/budgets/{h.budget.pk}/summary/", {"date": DAY}).json()["spent"]
    response = settle(h, client_for, h.bob, h.bob, h.alice, "3.00", note="cash")
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "payment" and response.json()["recorded_by"]["id"] == h.bob.pk
    assert member_nets(h.home.pk)["EUR"] == {h.alice.pk: 300, h.carol.pk: -300}  # Bob is square
    assert (
        client_for(h.alice).get(f"/api/v1/budgets/{h.budget.pk}/summary/", {"date": DAY}).json()["spent"]
        == before
    )
    listed = client_for(h.carol).get(url(h, "settlements")).json()
    assert [s["amount"] for s in listed["results"]] == ["3.00"]


def test_a_settlement_is_between_two_current_members(h, client_for):
    assert codes(settle(h, client_for, h.alice, h.alice, h.dave, "1.00")) == ["not_a_member"]
    assert codes(settle(h, client_for, h.alice, h.alice, h.alice, "1.00")) == ["same_member"]
    bad = settle(h, client_for, h.alice, h.alice, h.bob, "1.005")
    assert bad.json()["errors"][0] == {
        "code": "max_decimal_places",
        "detail": "EUR amounts have at most 2 decimal places.",
        "attr": "amount",
    }
    assert settle(h, client_for, h.alice, h.alice, h.bob, "100", currency="JPY").status_code == 201
    assert not Settlement.objects.exclude(currency="JPY").exists()


def test_an_admin_records_for_others_and_the_recorder_deletes(h, client_for):
    created = settle(h, client_for, h.bob, h.carol, h.alice, "2.00")
    assert created.status_code == 201
    path = f"{url(h, 'settlements')}{created.json()['id']}/"
    assert client_for(h.carol).delete(path).status_code == 403  # not hers to delete: Bob recorded it
    assert client_for(h.bob).delete(path).status_code == 204
    assert client_for(h.bob).delete(path).status_code == 404
    assert not Settlement.objects.exists()


def test_a_settlement_post_honours_the_idempotency_key(h, client_for):
    api = client_for(h.bob)
    body = {"from": h.bob.pk, "to": h.alice.pk, "amount": "5.00", "currency": "EUR", "date": "2026-03-20"}
    first = api.post(url(h, "settlements"), body, format="json", HTTP_IDEMPOTENCY_KEY="settle-1")
    again = api.post(url(h, "settlements"), body, format="json", HTTP_IDEMPOTENCY_KEY="settle-1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert Settlement.objects.count() == 1


# --- membership rules -----------------------------------------------------------------------


def test_a_member_with_a_balance_cannot_leave_until_settled(h, client_for):
    record(h, client_for, "9.00")
    api = client_for(h.carol)
    refused = api.post(f"/api/v1/households/{h.home.pk}/leave/")
    assert refused.status_code == 409
    body = refused.json()
    assert codes(refused) == ["balance_outstanding"]
    assert body["balances"] == [{"user": h.carol.pk, "currency": "EUR", "net": "-3.00"}]
    assert Membership.objects.filter(household=h.home, user=h.carol).exists()
    assert settle(h, client_for, h.carol, h.carol, h.alice, "3.00").status_code == 201
    assert api.post(f"/api/v1/households/{h.home.pk}/leave/").status_code == 204


def test_a_member_without_a_balance_leaves_and_is_removed(h, client_for):
    record(h, client_for, "6.00", paid_by=h.bob)
    # An equal split of Alice's: Carol owes nothing once she paid; Dave-like members never had any.
    record(h, client_for, "4.00", paid_by=h.alice)
    settle(h, client_for, h.carol, h.carol, h.bob, "2.00")
    settle(h, client_for, h.carol, h.carol, h.alice, "1.33")
    assert member_nets(h.home.pk)["EUR"].get(h.carol.pk, 0) == 0
    assert (
        client_for(h.alice).delete(f"/api/v1/households/{h.home.pk}/members/{h.carol.pk}/").status_code == 204
    )


def test_removal_with_a_balance_is_refused_unless_the_owner_forces_it(h, client_for):
    record(h, client_for, "9.00")
    record(h, client_for, "3.00", paid_by=h.carol)
    path = f"/api/v1/households/{h.home.pk}/members/{h.carol.pk}/"
    refused = client_for(h.bob).delete(path)
    assert refused.status_code == 409 and codes(refused) == ["balance_outstanding"]
    assert refused.json()["balances"] == [{"user": h.carol.pk, "currency": "EUR", "net": "-1.00"}]
    assert codes(client_for(h.bob).delete(path + "?force=true")) == ["only_owner_forces"]
    assert client_for(h.alice).delete(path + "?force=maybe").status_code == 400
    assert Membership.objects.filter(household=h.home, user=h.carol).exists()

    assert client_for(h.alice).delete(path + "?force=true").status_code == 204
    assert not Membership.objects.filter(household=h.home, user=h.carol).exists()
    nets = member_nets(h.home.pk)["EUR"]
    assert nets.get(h.carol.pk, 0) == 0
    assert sum(nets.values()) == 0
    # Carol owed Alice 3.00 and was owed 1.00 by each of Alice and Bob: written off pair by pair.
    written = Settlement.objects.filter(kind=SettlementKind.WRITE_OFF)
    assert sorted(written.values_list("from_user_id", "to_user_id", "amount_minor")) == sorted(
        [(h.carol.pk, h.alice.pk, 200), (h.bob.pk, h.carol.pk, 100)]
    )
    ledger = client_for(h.alice).get(url(h, "ledger"), {"member": h.carol.pk}).json()["results"]
    assert {e["type"] for e in ledger} == {"write_off", "split"}
    write_off = next(e for e in ledger if e["type"] == "write_off")
    assert "carol@example.com" in write_off["note"]
    delete = client_for(h.alice).delete(f"{url(h, 'settlements')}{write_off['settlement']}/")
    assert delete.status_code == 409 and codes(delete) == ["write_off_final"]


def test_deleting_a_household_with_balances_needs_force(h, client_for):
    record(h, client_for, "9.00")
    path = f"/api/v1/households/{h.home.pk}/"
    refused = client_for(h.alice).delete(path)
    assert refused.status_code == 409 and codes(refused) == ["balance_outstanding"]
    assert {row["user"] for row in refused.json()["balances"]} == {h.alice.pk, h.bob.pk, h.carol.pk}
    assert client_for(h.alice).delete(path + "?force=true").status_code == 204
    assert not Settlement.objects.exists()


def test_the_owner_cannot_leave_with_others_whatever_the_balances(h, client_for):
    response = client_for(h.alice).post(f"/api/v1/households/{h.home.pk}/leave/")
    assert codes(response) == ["owner_must_transfer"]


# --- the admin ------------------------------------------------------------------------------


@pytest.fixture
def root(db):
    from django.test import Client

    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_splits_and_settlements_are_read_only_in_the_admin(h, client_for, root):
    tx = record(h, client_for, "10.00")
    paid = settle(h, client_for, h.bob, h.bob, h.alice, "3.33", note="ADMIN-NOTE").json()
    split_page = root.get(f"/admin/transactions/split/{tx['id']}/change/")
    assert split_page.status_code == 200
    assert "3.34 EUR" in split_page.content.decode() and 'name="_save"' not in split_page.content.decode()
    settlement_page = root.get(f"/admin/transactions/settlement/{paid['id']}/change/")
    assert settlement_page.status_code == 200 and "3.33 EUR" in settlement_page.content.decode()
    assert root.get("/admin/transactions/settlement/").status_code == 200
    assert root.get("/admin/transactions/split/").status_code == 200
    before = list(Settlement.objects.values())
    assert root.post(f"/admin/transactions/settlement/{paid['id']}/change/", {"note": "x"}).status_code == 403
    assert (
        root.post(f"/admin/transactions/settlement/{paid['id']}/delete/", {"post": "yes"}).status_code == 403
    )
    assert root.get("/admin/transactions/split/add/").status_code == 403
    assert list(Settlement.objects.values()) == before


def test_the_ledger_and_settlements_pages_take_the_same_queries_at_one_row_and_a_full_page(h, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = client_for(h.carol)

    def queries(route):
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url(h, route), {"limit": 10}).status_code == 200
        return len(captured.captured_queries)

    same_day = {"date": DAY.isoformat()}  # splits and payments interleave on every page
    record(h, client_for, "3.00")
    settle(h, client_for, h.carol, h.carol, h.alice, "1.00", **same_day)
    one = (queries("ledger"), queries("settlements"))
    for _ in range(6):
        record(h, client_for, "3.00")
        settle(h, client_for, h.carol, h.carol, h.alice, "1.00", **same_day)
    assert (queries("ledger"), queries("settlements")) == one  # a full page of 10, both kinds
    # ledger: user, household, count, page, splits, their shares, settlements
    assert one == (7, 4)
