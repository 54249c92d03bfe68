"""Per-(budget, month, kind, category) sums of transactions kept by the database
(BudgetMonthTotal), for the monthly report.

Triggers rather than service code, as for the counts (transactions/counting.py), so that
every write path keeps them exact: services, bulk_create, the CSV import, a category's
SET NULL, a budget's cascade, the shell, raw SQL. On PostgreSQL every trigger is
statement-level over transition tables: a 1,000-row bulk insert or a category deleted under
10,000 rows costs one upsert per key touched, not one per row. SQLite has row triggers.

Locks: keys are locked in key order (budget, month, kind, category), by the upserts' ORDER
BY and by an ordered SELECT ... FOR UPDATE before a delete's decrements, so writers that
touch the same keys queue instead of deadlocking. The count triggers (tx_count_*) fire
first (triggers fire in name order) and lock the budgets' counters in budget order.

A key whose rows are all gone is deleted by the statement that emptied it (the partial
index tx_month_total_empty_idx finds those). Deletes only ever decrement: a budget's
cascade may delete its totals before its transactions, and a decrement of a key already
gone is a no-op, where an upsert would recreate it.
"""

from transactions.counting import triggers_on

# ruff: noqa: S608 - the SQL here is built from this module's constant table and column names.

SOURCE = "transactions_transaction"
TABLE = "transactions_budgetmonthtotal"
TRIGGERS = ("tx_month_inserted", "tx_month_deleted", "tx_month_updated")
KEY = "budget_id, month, kind, category_key"

# A row's key, from a transition table's row r.
_PG_KEY = "r.budget_id, date_trunc('month', r.date::timestamp)::date, r.kind, COALESCE(r.category_id, 0)"

POSTGRESQL_INSTALL = f"""
CREATE OR REPLACE FUNCTION tx_month_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} AS m ({KEY}, total_minor, entries)
    SELECT {_PG_KEY}, sum(r.amount_minor), count(*) FROM inserted AS r
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({KEY}) DO UPDATE
    SET total_minor = m.total_minor + EXCLUDED.total_minor, entries = m.entries + EXCLUDED.entries;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tx_month_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH delta (budget_id, month, kind, category_key, total_minor, entries) AS (
        SELECT {_PG_KEY}, sum(r.amount_minor), count(*) FROM deleted AS r GROUP BY 1, 2, 3, 4
    ), locked AS (
        SELECT m.id FROM {TABLE} AS m JOIN delta AS d USING ({KEY})
        ORDER BY m.budget_id, m.month, m.kind, m.category_key FOR UPDATE OF m
    )
    UPDATE {TABLE} AS m
    SET total_minor = m.total_minor - d.total_minor, entries = m.entries - d.entries
    FROM delta AS d
    WHERE m.id IN (SELECT id FROM locked)
        AND (m.budget_id, m.month, m.kind, m.category_key) = (d.budget_id, d.month, d.kind, d.category_key);
    DELETE FROM {TABLE} WHERE entries = 0 AND budget_id IN (SELECT budget_id FROM deleted);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tx_month_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Every UPDATE statement comes here (a trigger with transition tables cannot name its
    -- columns); rows whose key and amount did not change add nothing.
    INSERT INTO {TABLE} AS m ({KEY}, total_minor, entries)
    SELECT budget_id, month, kind, category_key, sum(total_minor), sum(entries)
    FROM (
        SELECT {_PG_KEY}, -r.amount_minor, -1
        FROM old_rows AS r JOIN new_rows AS n USING (id)
        WHERE (r.budget_id, r.date, r.kind, r.category_id, r.amount_minor)
            IS DISTINCT FROM (n.budget_id, n.date, n.kind, n.category_id, n.amount_minor)
        UNION ALL
        SELECT {_PG_KEY}, r.amount_minor, 1
        FROM new_rows AS r JOIN old_rows AS o USING (id)
        WHERE (r.budget_id, r.date, r.kind, r.category_id, r.amount_minor)
            IS DISTINCT FROM (o.budget_id, o.date, o.kind, o.category_id, o.amount_minor)
    ) AS delta (budget_id, month, kind, category_key, total_minor, entries)
    GROUP BY 1, 2, 3, 4
    HAVING sum(total_minor) <> 0 OR sum(entries) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT ({KEY}) DO UPDATE
    SET total_minor = m.total_minor + EXCLUDED.total_minor, entries = m.entries + EXCLUDED.entries;
    IF FOUND THEN
        DELETE FROM {TABLE} WHERE entries = 0 AND budget_id IN (SELECT budget_id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tx_month_inserted AFTER INSERT ON {SOURCE}
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tx_month_inserted();
CREATE TRIGGER tx_month_deleted AFTER DELETE ON {SOURCE}
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION tx_month_deleted();
CREATE TRIGGER tx_month_updated AFTER UPDATE ON {SOURCE}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tx_month_updated();
"""

POSTGRESQL_UNINSTALL = f"""
DROP TRIGGER IF EXISTS tx_month_inserted ON {SOURCE};
DROP TRIGGER IF EXISTS tx_month_deleted ON {SOURCE};
DROP TRIGGER IF EXISTS tx_month_updated ON {SOURCE};
DROP FUNCTION IF EXISTS tx_month_inserted();
DROP FUNCTION IF EXISTS tx_month_deleted();
DROP FUNCTION IF EXISTS tx_month_updated();
"""


def _sqlite_key(row: str) -> str:
    return (
        f"budget_id = {row}.budget_id AND month = date({row}.date, 'start of month') "
        f"AND kind = {row}.kind AND category_key = COALESCE({row}.category_id, 0)"
    )


_SQLITE_ADD_NEW = f"""INSERT INTO {TABLE} ({KEY}, total_minor, entries)
        VALUES (NEW.budget_id, date(NEW.date, 'start of month'), NEW.kind, COALESCE(NEW.category_id, 0),
                NEW.amount_minor, 1)
        ON CONFLICT ({KEY}) DO UPDATE
        SET total_minor = total_minor + excluded.total_minor, entries = entries + 1;"""
_SQLITE_TAKE_OLD = f"""UPDATE {TABLE} SET total_minor = total_minor - OLD.amount_minor, entries = entries - 1
        WHERE {_sqlite_key("OLD")};
        DELETE FROM {TABLE} WHERE {_sqlite_key("OLD")} AND entries = 0;"""

SQLITE_INSTALL = [
    f"CREATE TRIGGER tx_month_inserted AFTER INSERT ON {SOURCE} BEGIN {_SQLITE_ADD_NEW} END",
    f"CREATE TRIGGER tx_month_deleted AFTER DELETE ON {SOURCE} BEGIN {_SQLITE_TAKE_OLD} END",
    f"""CREATE TRIGGER tx_month_updated AFTER UPDATE OF budget_id, date, kind, category_id, amount_minor
    ON {SOURCE} WHEN OLD.budget_id IS NOT NEW.budget_id OR OLD.date IS NOT NEW.date
        OR OLD.kind IS NOT NEW.kind OR OLD.category_id IS NOT NEW.category_id
        OR OLD.amount_minor IS NOT NEW.amount_minor
    BEGIN {_SQLITE_TAKE_OLD} {_SQLITE_ADD_NEW} END""",
]

SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]

_MONTH = {
    "postgresql": "date_trunc('month', date::timestamp)::date",
    "sqlite": "date(date, 'start of month')",
}


def backfill_sql(vendor: str) -> str:
    return f"""
INSERT INTO {TABLE} ({KEY}, total_minor, entries)
SELECT budget_id, {_MONTH[vendor]}, kind, COALESCE(category_id, 0), sum(amount_minor), count(*)
FROM {SOURCE} GROUP BY 1, 2, 3, 4
"""


def _statements(vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return [POSTGRESQL_INSTALL if install else POSTGRESQL_UNINSTALL]
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_UNINSTALL
    raise NotImplementedError(f"No month total triggers for {vendor}")


def install(apps, schema_editor) -> None:
    """Migration step: the triggers, then the totals of the rows already there."""
    vendor = schema_editor.connection.vendor
    for sql in _statements(vendor, install=True):
        schema_editor.execute(sql, params=None)
    schema_editor.execute(f"DELETE FROM {TABLE}", params=None)
    schema_editor.execute(backfill_sql(vendor), params=None)


def uninstall(apps, schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


def reinstall_on_sqlite(apps, schema_editor) -> None:
    """Migration step after SQLite rebuilt the transaction table (adding or dropping a
    column), which drops its triggers; the rows and so the totals are unchanged."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in (*SQLITE_UNINSTALL, *SQLITE_INSTALL):
        schema_editor.execute(sql, params=None)


def installed_triggers(connection) -> set[str]:
    """The month total triggers present on the transaction table (for tests and checks)."""
    return triggers_on(connection, SOURCE) & set(TRIGGERS)
