# PostgreSQL: search's trigram index gains the budget (btree_gin), so that a search over a
# caller's budgets reads their matching rows only, not every matching row of the table; and
# statistics on the walked form of the searched text (transactions/filters.py, SearchText).
# SQLite: nothing (its search stays a scan).

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

TEXT = "(payee || chr(31) || description || chr(31) || notes)"
# UPPER(...) of filters.SearchText, as Django compiles icontains on it, beside the budget. A
# small pending list: every search over several budgets scans it once per budget (4,000
# pending rows made the 500-budget adviser's count 600 ms).
SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS tx_search_budget_trgm_idx ON transactions_transaction USING gin "
    f"(budget_id, UPPER({TEXT}) gin_trgm_ops) WITH (gin_pending_list_limit = 64)"
)
OLD_SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS tx_search_trgm_idx ON transactions_transaction USING gin "
    f"(UPPER({TEXT}) gin_trgm_ops)"
)
# SearchText.walked(), which no index serves: without its own statistics the planner took a
# search for a rare one and read whole budgets to sort them.
WALKED_STATISTICS = (
    "CREATE STATISTICS IF NOT EXISTS tx_search_walked_stats "
    f"ON (UPPER(({TEXT} || ''))) FROM transactions_transaction"
)


def _trigrams_installed(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(WALKED_STATISTICS, params=None)
    schema_editor.execute("ANALYZE transactions_transaction", params=None)
    if not _trigrams_installed(schema_editor):
        return  # migration 0006 could not create pg_trgm: search has no index at all
    try:
        # A savepoint: a role that may not create the extension keeps 0006's index.
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin", params=None)
    except DatabaseError as exc:
        logger.warning("btree_gin is not available (%s): search keeps its index without the budget.", exc)
        return
    schema_editor.execute(SEARCH_INDEX, params=None)
    schema_editor.execute("DROP INDEX IF EXISTS tx_search_trgm_idx", params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    if _trigrams_installed(schema_editor):
        schema_editor.execute(OLD_SEARCH_INDEX, params=None)
    schema_editor.execute("DROP INDEX IF EXISTS tx_search_budget_trgm_idx", params=None)
    schema_editor.execute("DROP STATISTICS IF EXISTS tx_search_walked_stats", params=None)


class Migration(migrations.Migration):
    dependencies = [("transactions", "0008_history_and_sync")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
