"""The bench's floor views read any user's rows without a token: they exist only when
BENCH_ENDPOINTS is on, which the suite's settings (like production's) leave off."""

import pytest

from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/bench/transactions/?user={user}&limit=50",
        "/bench/transactions/{tx}/?user={user}",
        "/bench/bare/",
        "/bench/budgets/?user={user}",
        "/bench/budgets/{budget}/summary/?user={user}&date=2026-01-15",
        "/bench/households/{budget}/balances/?user={user}",
        "/bench/transactions/?user={user}&search=Floor&limit=50",
        "/bench/budgets/{budget}/report/?user={user}&from=2025-12&to=2026-11",
    ],
)
def test_floor_views_are_not_served_by_default(anon, path):
    tx = TransactionFactory(payee="Floor secret")
    response = anon.get(path.format(user=tx.budget.owner_id, budget=tx.budget_id, tx=tx.pk))
    assert response.status_code == 404
    assert b"Floor secret" not in response.content


def test_nor_is_the_create_view(anon):
    tx = TransactionFactory()
    before = tx.budget.transactions.count()
    response = anon.post(f"/bench/transactions/create/?user={tx.budget.owner_id}", {}, format="json")
    assert response.status_code == 404
    assert tx.budget.transactions.count() == before
