"""TransactionSerializer's unrolled output is exactly what DRF's generic loop gives."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from rest_framework import serializers

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, CategoryFactory
from money.currencies import MINOR_UNITS
from transactions.models import Transaction
from transactions.rows import page_rows
from transactions.serializers import TransactionSerializer
from transactions.tests.factories import TransactionFactory


def generic(tx) -> dict:
    serializer = TransactionSerializer(tx)
    return dict(serializers.ModelSerializer.to_representation(serializer, tx))


def test_fields_and_values_match_the_generic_loop(db):
    budget = BudgetFactory(currency="BHD")
    rows = [
        TransactionFactory(budget=budget, category=CategoryFactory(budget=budget), amount_minor=1, notes="n"),
        TransactionFactory(budget=budget, kind="income", created_by=None, amount_minor=10**12),
    ]
    UserFactory()  # the recorder of neither
    for tx in Transaction.objects.select_related("budget", "created_by").filter(pk__in=[r.pk for r in rows]):
        fast = TransactionSerializer(tx).data
        assert list(fast) == TransactionSerializer.Meta.fields
        assert fast == generic(tx)


class TestAgainstTheGenericLoop(TestCase):
    @settings(max_examples=40, deadline=None)
    @given(
        currency=st.sampled_from(sorted(MINOR_UNITS)),
        amount_minor=st.integers(min_value=1, max_value=10**12),
        day=st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)),
        # Any text PostgreSQL stores (it refuses NUL).
        text=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30),
        recorded=st.booleans(),
        categorised=st.booleans(),
    )
    def test_any_transaction(self, currency, amount_minor, day, text, recorded, categorised):
        budget = BudgetFactory(currency=currency)
        tx = TransactionFactory(
            budget=budget,
            amount_minor=amount_minor,
            date=day,
            payee=text,
            description=text[::-1],
            created_by=budget.owner if recorded else None,
            category=CategoryFactory(budget=budget) if categorised else None,
        )
        tx = Transaction.objects.select_related("budget", "created_by").get(pk=tx.pk)
        assert TransactionSerializer(tx).data == generic(tx)


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_timestamps_keep_drfs_format(db, field):
    tx = TransactionFactory()
    tx = Transaction.objects.select_related("budget", "created_by").get(pk=tx.pk)
    assert TransactionSerializer(tx).data[field].endswith("Z")


def test_a_list_pages_rows_serialise_like_joined_instances(db):
    """The list reads its page as plain values with the budget's currency and the recorder's
    email joined (transactions/pagination.py, PageRow); the output is the same."""
    budget = BudgetFactory(currency="JPY")
    ids = [TransactionFactory(budget=budget).pk, TransactionFactory(budget=budget, created_by=None).pk]
    rows = page_rows(Transaction.objects.filter(pk__in=ids).order_by("pk"))
    joined = {
        tx.pk: tx for tx in Transaction.objects.filter(pk__in=ids).select_related("budget", "created_by")
    }
    assert [row.pk for row in rows] == sorted(ids)
    for row in rows:
        assert TransactionSerializer(row).data == generic(joined[row.pk])
