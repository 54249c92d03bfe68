"""Imports cannot take the whole server: a limit on how many run at once, and a time limit on
each one's database work. Both answer at once and record nothing."""

import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from accounts.services import token_pair_for
from budgets.services import lock_budgets
from budgets.tests.factories import BudgetFactory
from server.tests.helpers import assert_error
from transactions.import_slots import RETRY_AFTER_SECONDS, import_slot
from transactions.models import Transaction
from transactions.tests.helpers import IMPORT_HEADER, import_csv

ROWS = IMPORT_HEADER + "2026-03-01,12.50,expense,,Baker,,\n2026-03-02,3.00,expense,,Kiosk,,\n"


def _client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)  # a 503 is an answer here, not a test error
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user)['access']}")
    return client


class _Holder(threading.Thread):
    """Another worker, on its own database connection, inside ``hold()`` until released."""

    def __init__(self, hold):
        super().__init__(daemon=True)
        self.hold, self.ready, self.release, self.error = hold, threading.Event(), threading.Event(), None

    def run(self):
        try:
            with self.hold():
                self.ready.set()
                self.release.wait(timeout=30)
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.ready.set()
        finally:
            connection.close()

    def __enter__(self):
        self.start()
        assert self.ready.wait(timeout=30)
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc_info):
        self.release.set()
        self.join(timeout=30)


@pytest.mark.django_db
def test_an_import_over_the_limit_is_refused_at_once_with_retry_after(settings):
    settings.IMPORT_MAX_CONCURRENT = 1
    budget = BudgetFactory()
    client = _client(budget.owner)
    with _Holder(import_slot):
        response = import_csv(client, budget.pk, ROWS)
        assert_error(response, 429, "throttled", attr=None)
        assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "Other imports are running" in response.json()["errors"][0]["detail"]
        assert not Transaction.objects.filter(budget=budget).exists()
    response = import_csv(client, budget.pk, ROWS)
    assert response.status_code == 201, response.content
    assert Transaction.objects.filter(budget=budget).count() == 2


@pytest.mark.django_db
def test_a_second_slot_lets_a_second_import_run(settings):
    settings.IMPORT_MAX_CONCURRENT = 2
    budget = BudgetFactory()
    with _Holder(import_slot):
        response = import_csv(_client(budget.owner), budget.pk, ROWS)
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_failed_import_gives_its_slot_back(settings):
    settings.IMPORT_MAX_CONCURRENT = 1
    budget = BudgetFactory()
    client = _client(budget.owner)
    assert_error(import_csv(client, budget.pk, "when,what\n1,2\n"), 400, "invalid_header")
    assert_error(import_csv(client, budget.pk, IMPORT_HEADER + "2026-02-30,1,expense,,,,\n"), 400, "invalid")
    assert import_csv(client, budget.pk, ROWS).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_an_import_waiting_longer_than_its_time_limit_is_rolled_back(settings):
    """Another writer holds the budget (PostgreSQL: its row lock; SQLite: the database's
    write lock) past IMPORT_TIMEOUT_SECONDS: 503 import_timeout, nothing recorded, and the
    connection is usable afterwards."""
    settings.IMPORT_TIMEOUT_SECONDS = 1
    budget = BudgetFactory()
    client = _client(budget.owner)

    def hold_budget():
        block = transaction.atomic()
        block.__enter__()
        lock_budgets([budget.pk])

        class _Release:
            def __enter__(self):
                return self

            def __exit__(self, *exc_info):
                block.__exit__(None, None, None)

        return _Release()

    with _Holder(hold_budget):
        response = import_csv(client, budget.pk, ROWS)
    body = assert_error(response, 503, "import_timeout", attr=None)
    assert "longer than 1 s" in body["errors"][0]["detail"]
    assert not Transaction.objects.filter(budget=budget).exists()
    assert import_csv(client, budget.pk, ROWS).status_code == 201
