"""What an Idempotency-Key costs in queries (issue 15: at most 2 ms over the same POST
without one): a fixed few statements, whatever the caller has stored before."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory
from idempotency import middleware

pytestmark = pytest.mark.django_db

TRANSACTIONS = "/api/v1/transactions/"
RECORDS = "idempotency_idempotencyrecord"

# The claim and the lookup (on PostgreSQL the advisory lock and the SELECT go in one round
# trip; SQLite needs no lock), the stored answer, and the SAVEPOINT and RELEASE that the
# view's own atomic block becomes inside the request's transaction (in a test, the request's
# own block is the savepoint instead).
EXTRA_STATEMENTS = 4


@pytest.fixture
def sweep_not_due(monkeypatch):
    monkeypatch.setattr(middleware, "_next_sweep", float("inf"))


def statements(client, data, **headers) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(TRANSACTIONS, data, format="json", **headers)
    assert response.status_code == 201, response.content[:300]
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.usefixtures("sweep_not_due")
def test_a_key_adds_a_fixed_few_statements_and_the_caller_is_read_once(client_for):
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    api = client_for(owner)
    api.get(TRANSACTIONS)  # warm-up: permission ids are looked up once per process

    def data(amount):
        return {"budget": budget.pk, "kind": "expense", "amount": amount, "date": "2026-11-30"}

    for n in range(3):  # the same whatever the caller stored before
        plain = statements(api, data(f"{n + 1}.00"))
        keyed = statements(api, data(f"{n + 1}.50"), HTTP_IDEMPOTENCY_KEY=f"order-{n}")
        lock = connection.vendor == "postgresql"
        assert len(keyed) - len(plain) == EXTRA_STATEMENTS, keyed
        on_records = [sql.split(" ", 1)[0] for sql in keyed if RECORDS in sql]
        assert on_records == ["SELECT", "INSERT"]  # no DELETE: an expired one is overwritten
        assert sum('FROM "accounts_user"' in sql for sql in keyed) == 1  # one authentication
        assert sum("pg_try_advisory_xact_lock" in sql for sql in keyed) == lock


def test_the_sweep_when_due_is_one_delete_of_every_expired_record(client_for, monkeypatch):
    monkeypatch.setattr(middleware, "_next_sweep", 0.0)
    owner = UserFactory()
    budget = BudgetFactory(owner=owner)
    data = {"budget": budget.pk, "kind": "expense", "amount": "1.00", "date": "2026-11-30"}
    keyed = statements(client_for(owner), data, HTTP_IDEMPOTENCY_KEY="order")
    deletes = [sql for sql in keyed if sql.startswith("DELETE")]
    assert len(deletes) == 1
    assert deletes[0].startswith(f'DELETE FROM "{RECORDS}" WHERE "{RECORDS}"."expires_at" <= ')
