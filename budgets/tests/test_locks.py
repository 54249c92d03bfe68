"""lock_budgets: the lock every write to a budget's subtree takes first, by SQL compiled once
on PostgreSQL (server/compiled.py compiled_instances)."""

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.transaction import TransactionManagementError

from budgets.models import Budget
from budgets.services.locks import lock_budgets
from budgets.tests.factories import BudgetFactory


@pytest.mark.django_db(transaction=True)
def test_lock_budgets_locks_and_freshly_reads_the_ones_that_exist():
    first, second = BudgetFactory(), BudgetFactory()
    with transaction.atomic():
        Budget.objects.filter(pk=first.pk).update(name="Renamed meanwhile")
        locked = lock_budgets([second.pk, first.pk, second.pk + 10**9])
        assert list(locked) == [first.pk, second.pk]
        assert locked[first.pk].name == "Renamed meanwhile"
        assert list(lock_budgets([second.pk])) == [second.pk]  # one id: its own SQL (pk_among)
        if connection.vendor == "postgresql":
            assert _another_connection_cannot_lock(second.pk)  # first is locked by the update
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            lock_budgets([first.pk])


def _another_connection_cannot_lock(pk: int) -> bool:
    refused = []

    def attempt():
        try:
            with transaction.atomic():
                list(Budget.objects.select_for_update(nowait=True).filter(pk=pk))
        except DatabaseError:
            refused.append(True)
        finally:
            connections.close_all()

    worker = threading.Thread(target=attempt)
    worker.start()
    worker.join()
    return refused == [True]
