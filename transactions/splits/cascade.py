"""A deleted transaction takes its split with it, in the database.

Split and SplitShare refer to the transaction with on_delete=DO_NOTHING, and these triggers
delete them instead: with a cascade in Django, every delete of transactions (one, or a
budget's 50,000 when the budget goes) would first read the rows into Python to find their
splits; the trigger keeps those deletes one statement, as they were. On PostgreSQL a
statement-level trigger over the deleted rows; on SQLite a row trigger. (The foreign keys
are checked at commit, after the trigger ran.) Installed by migration 0004; like the counting
triggers (transactions/counting.py), SQLite drops it when a migration rebuilds the
transaction table, and test_splits_api.py's deletion tests then fail.
"""

POSTGRESQL_INSTALL = """
CREATE OR REPLACE FUNCTION tx_split_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM transactions_splitshare WHERE split_id IN (SELECT id FROM deleted);
    DELETE FROM transactions_split WHERE transaction_id IN (SELECT id FROM deleted);
    RETURN NULL;
END $$;
CREATE TRIGGER tx_split_deleted AFTER DELETE ON transactions_transaction
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION tx_split_deleted();
"""
POSTGRESQL_UNINSTALL = """
DROP TRIGGER IF EXISTS tx_split_deleted ON transactions_transaction;
DROP FUNCTION IF EXISTS tx_split_deleted();
"""
SQLITE_INSTALL = """CREATE TRIGGER tx_split_deleted AFTER DELETE ON transactions_transaction BEGIN
    DELETE FROM transactions_splitshare WHERE split_id = OLD.id;
    DELETE FROM transactions_split WHERE transaction_id = OLD.id;
END"""
SQLITE_UNINSTALL = "DROP TRIGGER IF EXISTS tx_split_deleted"


def install(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRESQL_INSTALL if vendor == "postgresql" else SQLITE_INSTALL, params=None)


def uninstall(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRESQL_UNINSTALL if vendor == "postgresql" else SQLITE_UNINSTALL, params=None)
