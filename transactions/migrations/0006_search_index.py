# PostgreSQL: pg_trgm, and a trigram GIN index on the text search reads (transactions/filters.py,
# filter_search), where the extension can be created. SQLite: nothing (its search stays a scan).

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

# UPPER(...) of filters.SearchText, as Django compiles icontains on it: the same expression,
# so that the planner can match the query's to the index's.
SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS tx_search_trgm_idx ON transactions_transaction USING gin "
    "(UPPER((payee || chr(31) || description || chr(31) || notes)) gin_trgm_ops)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        # A savepoint: a role that may not create the extension leaves the migration running.
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    except DatabaseError as exc:
        logger.warning("pg_trgm is not available (%s): search runs without its index.", exc)
        return
    schema_editor.execute(SEARCH_INDEX, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS tx_search_trgm_idx", params=None)


class Migration(migrations.Migration):
    dependencies = [("transactions", "0005_month_totals")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
