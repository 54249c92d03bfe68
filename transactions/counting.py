"""Per-budget transaction counts kept by the database (BudgetTransactionCount).

Triggers rather than service code, so that every write path keeps the count exact:
services, bulk_create, the CSV import, a budget's cascade delete, the Django shell,
raw SQL. On PostgreSQL, inserts and deletes use statement-level triggers over transition
tables (one counter update per budget per statement, so a 1,000-row bulk insert costs one
upsert); a transaction moved to another budget uses a row trigger. SQLite has row
triggers only. Inserts and moves lock counter rows in budget id order, so concurrent
writers queue on a counter instead of deadlocking (a delete across several budgets only
happens when budgets or their owner are deleted).
"""

SOURCE = "transactions_transaction"
TRIGGERS = ("tx_count_inserted", "tx_count_deleted", "tx_count_moved")

POSTGRESQL_INSTALL = """
CREATE OR REPLACE FUNCTION tx_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO transactions_budgettransactioncount AS c (budget_id, total)
    SELECT budget_id, count(*) FROM inserted GROUP BY budget_id ORDER BY budget_id
    ON CONFLICT (budget_id) DO UPDATE SET total = c.total + EXCLUDED.total;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tx_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE transactions_budgettransactioncount AS c SET total = c.total - d.rows
    FROM (SELECT budget_id, count(*) AS rows FROM deleted GROUP BY budget_id) AS d
    WHERE c.budget_id = d.budget_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tx_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The old budget's counter exists (its insert made it); the new one's may not.
    IF OLD.budget_id < NEW.budget_id THEN
        UPDATE transactions_budgettransactioncount SET total = total - 1 WHERE budget_id = OLD.budget_id;
    END IF;
    INSERT INTO transactions_budgettransactioncount AS c (budget_id, total) VALUES (NEW.budget_id, 1)
    ON CONFLICT (budget_id) DO UPDATE SET total = c.total + 1;
    IF OLD.budget_id > NEW.budget_id THEN
        UPDATE transactions_budgettransactioncount SET total = total - 1 WHERE budget_id = OLD.budget_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tx_count_inserted AFTER INSERT ON transactions_transaction
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tx_count_inserted();
CREATE TRIGGER tx_count_deleted AFTER DELETE ON transactions_transaction
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION tx_count_deleted();
CREATE TRIGGER tx_count_moved AFTER UPDATE OF budget_id ON transactions_transaction
    FOR EACH ROW WHEN (OLD.budget_id IS DISTINCT FROM NEW.budget_id) EXECUTE FUNCTION tx_count_moved();
"""

POSTGRESQL_UNINSTALL = """
DROP TRIGGER IF EXISTS tx_count_inserted ON transactions_transaction;
DROP TRIGGER IF EXISTS tx_count_deleted ON transactions_transaction;
DROP TRIGGER IF EXISTS tx_count_moved ON transactions_transaction;
DROP FUNCTION IF EXISTS tx_count_inserted();
DROP FUNCTION IF EXISTS tx_count_deleted();
DROP FUNCTION IF EXISTS tx_count_moved();
"""

# A moved row's old budget always has a counter row (its insert made one), so a plain
# UPDATE is enough there.
SQLITE_INSTALL = [
    """CREATE TRIGGER tx_count_inserted AFTER INSERT ON transactions_transaction BEGIN
        INSERT INTO transactions_budgettransactioncount (budget_id, total) VALUES (NEW.budget_id, 1)
        ON CONFLICT (budget_id) DO UPDATE SET total = total + 1;
    END""",
    """CREATE TRIGGER tx_count_deleted AFTER DELETE ON transactions_transaction BEGIN
        UPDATE transactions_budgettransactioncount SET total = total - 1 WHERE budget_id = OLD.budget_id;
    END""",
    """CREATE TRIGGER tx_count_moved AFTER UPDATE OF budget_id ON transactions_transaction
    WHEN OLD.budget_id IS NOT NEW.budget_id BEGIN
        UPDATE transactions_budgettransactioncount SET total = total - 1 WHERE budget_id = OLD.budget_id;
        INSERT INTO transactions_budgettransactioncount (budget_id, total) VALUES (NEW.budget_id, 1)
        ON CONFLICT (budget_id) DO UPDATE SET total = total + 1;
    END""",
]

SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS tx_count_inserted",
    "DROP TRIGGER IF EXISTS tx_count_deleted",
    "DROP TRIGGER IF EXISTS tx_count_moved",
]

BACKFILL = """
INSERT INTO transactions_budgettransactioncount (budget_id, total)
SELECT budget_id, count(*) FROM transactions_transaction GROUP BY budget_id
"""


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return [POSTGRESQL_INSTALL if install else POSTGRESQL_UNINSTALL]
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_UNINSTALL
    raise NotImplementedError(f"No transaction count triggers for {vendor}")


def install(apps, schema_editor) -> None:
    """Migration step: the triggers, then the counts of the rows already there."""
    for sql in _statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)
    schema_editor.execute("DELETE FROM transactions_budgettransactioncount", params=None)
    schema_editor.execute(BACKFILL, params=None)


def uninstall(apps, schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


def reinstall_on_sqlite(apps, schema_editor) -> None:
    """Migration step after SQLite rebuilt the transaction table (adding or dropping a
    column), which drops its triggers; the rows and so the counts are unchanged."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in (*SQLITE_UNINSTALL, *SQLITE_INSTALL):
        schema_editor.execute(sql, params=None)


def triggers_on(connection, table: str) -> set[str]:
    """The names of the (non-internal) triggers on ``table``, on PostgreSQL or SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table]
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def installed_triggers(connection) -> set[str]:
    """The count triggers present on the transaction table (for tests and checks)."""
    return triggers_on(connection, SOURCE) & set(TRIGGERS)
