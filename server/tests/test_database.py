"""Timestamps read from PostgreSQL by psycopg's C loader (server/database.py): the same
datetimes, with the same time zone, as Django's own loader and the ORM gave before."""

import datetime

import pytest
from django.db import connection

from transactions.models import Transaction
from transactions.tests.factories import TransactionFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
INSTANTS = [
    datetime.datetime(2026, 11, 30, 12, 34, 56, 123456, tzinfo=UTC),
    datetime.datetime(2026, 11, 30, 12, 34, 56, tzinfo=UTC),
    datetime.datetime(2026, 3, 29, 1, 30, 0, 500000, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    datetime.datetime(1, 1, 1, tzinfo=UTC),
    datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_a_stored_timestamp_reads_back_as_the_same_instant_in_utc(instant):
    tx = TransactionFactory()
    Transaction.objects.filter(pk=tx.pk).update(created_at=instant)
    read = Transaction.objects.values_list("created_at", flat=True).get(pk=tx.pk)
    assert read == instant
    assert read.utcoffset() == datetime.timedelta(0)
    if connection.vendor == "postgresql":
        # Django's own loader, given the text PostgreSQL sends, reads the same value and zone.
        from django.db.backends.postgresql.psycopg_any import BaseTzLoader
        from psycopg.pq import Format

        class DjangosLoader(BaseTzLoader):
            timezone = connection.timezone

        with connection.cursor() as cursor:
            cursor.execute("SELECT created_at::text FROM transactions_transaction WHERE id = %s", [tx.pk])
            text = cursor.fetchone()[0]
            loader = cursor.cursor.adapters.get_loader(1184, Format.TEXT)
            assert loader.__name__ == "SessionTimestamptzLoader"
            djangos = DjangosLoader(1184, cursor.cursor).load(text.encode())
        assert (read, read.tzinfo) == (djangos, djangos.tzinfo)
