"""A transaction's retrieve reads it as plain values through visible_to, by SQL compiled
once (transactions/rows.py, TenantViewSet.get_row): the same body as the model's, the
same 404 for every id the caller cannot read, two queries."""

import pytest

from accounts.tests.factories import UserFactory
from budgets.services.sharing import share_revoke_user
from budgets.tests.factories import BudgetFactory, share_user
from households.tests.factories import make_household
from transactions.models import Transaction
from transactions.serializers import TransactionSerializer
from transactions.tests.factories import TransactionFactory
from transactions.tests.split_helpers import build_home, expense, split

pytestmark = pytest.mark.django_db

TX = "/api/v1/transactions/"


def model_body(pk: int) -> dict:
    tx = (
        Transaction.objects.select_related("budget", "created_by", "split")
        .prefetch_related("split__shares")
        .get(pk=pk)
    )
    return dict(TransactionSerializer(tx).data)


def test_a_plain_and_a_split_transaction_read_as_their_model_does(client_for):
    h = build_home("JPY")
    alice = client_for(h.alice)
    plain = alice.post(TX, expense(h, "1200"), format="json").json()
    shared = alice.post(
        TX,
        expense(
            h,
            "1000",
            split(
                h,
                h.alice,
                "percent",
                [
                    {"user": h.alice.pk, "percent": "50"},
                    {"user": h.bob.pk, "percent": "30"},
                    {"user": h.carol.pk, "percent": "20"},
                ],
            ),
        ),
        format="json",
    ).json()
    for created in (plain, shared):
        response = client_for(h.carol).get(f"{TX}{created['id']}/")
        assert response.status_code == 200
        assert response.json() == model_body(created["id"]) == created
        assert response["ETag"] == f'"{created["id"]}-{created["version"]}"'


def test_a_recorder_deleted_since_reads_as_null(client_for):
    owner, gone = UserFactory(), UserFactory()
    budget = BudgetFactory(owner=owner)
    tx = TransactionFactory(budget=budget, created_by=gone)
    gone.delete()
    body = client_for(owner).get(f"{TX}{tx.pk}/").json()
    assert body["created_by"] is None
    assert body == model_body(tx.pk)


@pytest.mark.parametrize("shape", ["foreign", "missing", "zero", "negative", "bigint+1", "huge", "letters"])
def test_every_id_the_caller_cannot_read_is_the_same_404(client_for, shape):
    me, stranger = UserFactory(), UserFactory()
    mine = TransactionFactory(budget=BudgetFactory(owner=me))
    foreign = TransactionFactory(budget=BudgetFactory(owner=stranger))
    ids = {
        "foreign": foreign.pk,
        "missing": foreign.pk + 1000,
        "zero": 0,
        "negative": -mine.pk,
        "bigint+1": 2**63,
        "huge": 10**30,
        "letters": "abc",
    }
    client = client_for(me)
    reference = client.get(f"{TX}{foreign.pk + 1000}/")
    response = client.get(f"{TX}{ids[shape]}/")
    assert response.status_code == 404
    assert response.content == reference.content


def test_a_share_revoked_between_two_reads_is_a_404_on_the_second(client_for):
    """The compiled SQL carries only the caller's id and the row's: the second read, after
    the share is gone, is checked against the shares as they are now."""
    owner, friend = UserFactory(), UserFactory()
    make_household(owner, members=[friend])
    budget = BudgetFactory(owner=owner)
    tx = TransactionFactory(budget=budget)
    share_user(budget, friend, "view")
    client = client_for(friend)
    assert client.get(f"{TX}{tx.pk}/").status_code == 200
    share_revoke_user(budget=budget, grantee_id=friend.pk)
    assert client.get(f"{TX}{tx.pk}/").status_code == 404


def test_a_retrieve_costs_the_caller_and_the_row(client_for, django_assert_num_queries):
    owner = UserFactory()
    tx = TransactionFactory(budget=BudgetFactory(owner=owner))
    client = client_for(owner)
    client.get(f"{TX}{tx.pk}/")  # warm: permission ids are read once per process
    with django_assert_num_queries(2):
        assert client.get(f"{TX}{tx.pk}/").status_code == 200
