"""The change log, written by the database: one history event per changed row, in the same
transaction as the write, whatever made it (the services, bulk_create, the import's COPY,
the admin, a cascade, QuerySet.update, the shell).

Each app names its tracked tables (``Tracked``: the table, the event's object type, the
fields an event shows, and how a row finds its budget, household and transaction) in its
``tracking.py``, and installs their triggers with a migration (``install(...)``), as the
transaction counters do (transactions/counting.py):

- PostgreSQL: statement-level AFTER triggers over the transition tables, so a statement
  that writes 50,000 rows (an import, a budget's cascade) records them in one
  ``INSERT ... SELECT``; one plpgsql function per table, ``history_<table>()``.
- SQLite: row triggers (SQLite has no others), in C, never one Python call per row beyond
  the context functions they read (history/context.py).

An event holds the fields that changed, each as ``[old, new]``: every non-null field for a
create (old null), every non-null field for a delete (new null), the fields that differ for
an update. An update that changes no tracked field (a row version, ``updated_at``, the
sync knowledge) records nothing. Money is the exact decimal string of the row's currency
("12.30" EUR, "1500" JPY), dates ISO strings, ids numbers. Changing a table's ``Tracked``
means a migration that installs its triggers again.
"""

from dataclasses import dataclass

from money.currencies import MINOR_UNITS

EVENT_TABLE = "history_event"
_COLUMNS = (
    "created_at, object_type, object_id, budget_id, household_id, transaction_id, action, "
    "changes, actor_id, had_actor, source, request_id"
)


@dataclass(frozen=True)
class Field:
    """One field an event shows: ``name`` in the event, ``column`` in the table, or ``sql``
    (over the row alias ``{r}``) for a value read elsewhere. Money, in minor units in
    ``column``, is in the currency of the row's column ``currency``, or of the budget its
    column ``budget_currency`` names; ``places``: a decimal column, written with that many
    places; ``flag``: a boolean."""

    name: str
    column: str = ""
    currency: str | None = None
    budget_currency: str | None = None
    places: int | None = None
    flag: bool = False
    sql: str | None = None

    def value(self, vendor: str, r: str) -> str:
        if self.sql is not None:
            return self.sql.format(r=r)
        column = f"{r}.{self.column}"
        if self.currency is not None:
            return f"history_money({column}, {r}.{self.currency})"
        if self.budget_currency is not None:
            if vendor == "postgresql":
                # A plain column of a join (_budget_joins): history_money() is then inlined
                # (a subquery as its argument would make it a function call per row).
                return f"history_money({column}, {_budget_alias(r, self.budget_currency)}.currency)"
            budget = f"(SELECT b.currency FROM budgets_budget AS b WHERE b.id = {r}.{self.budget_currency})"
            return f"history_money({column}, {budget})"
        if self.places is not None:
            if vendor == "postgresql":
                return f"({column})::text"
            return f"CASE WHEN {column} IS NULL THEN NULL ELSE printf('%.{self.places}f', {column}) END"
        if self.flag and vendor == "sqlite":
            return f"json(CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN 'true' ELSE 'false' END)"
        return column


@dataclass(frozen=True)
class Tracked:
    """A table whose every row change is an event. ``budget``, ``household`` and
    ``transaction``: SQL over the row alias ``{r}`` naming what the row belongs to (NULL
    for nothing)."""

    table: str
    object_type: str
    fields: tuple[Field, ...]
    budget: str = "NULL"
    household: str = "NULL"
    transaction: str = "NULL"
    pk: str = "id"

    @property
    def function(self) -> str:
        return f"history_{self.table}"

    def triggers(self) -> tuple[str, str, str]:
        return tuple(f"history_{self.table}_{event}" for event in ("insert", "update", "delete"))


# The changed fields ----------------------------------------------------------------------


def _budget_alias(r: str, column: str) -> str:
    return f"{r}_{column}_budget"


def _budget_joins(tracked: Tracked, *aliases: str) -> str:
    """PostgreSQL: the budgets whose currency a money field is in, joined to the rows."""
    columns = sorted({f.budget_currency for f in tracked.fields if f.budget_currency})
    return "".join(
        f"\n        LEFT JOIN budgets_budget AS {_budget_alias(r, column)} "
        f"ON {_budget_alias(r, column)}.id = {r}.{column}"
        for r in aliases
        for column in columns
    )


def _changes(tracked: Tracked, vendor: str, old: str | None, new: str | None) -> str:
    pairs = []
    for field in tracked.fields:
        before = field.value(vendor, old) if old else None
        after = field.value(vendor, new) if new else None
        if before and after:
            distinct = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
            condition = f"{before} {distinct} {after}"
        else:
            condition = f"{before or after} IS NOT NULL"
        if vendor == "postgresql":
            null = "'null'::jsonb"
            pair = f"jsonb_build_array({before or null}, {after or null})"
            pairs.append(f"'{field.name}', CASE WHEN {condition} THEN {pair} END")
        else:
            pair = f"json_array({before or 'NULL'}, {after or 'NULL'})"
            pairs.append(f"'{field.name}', json(CASE WHEN {condition} THEN {pair} END)")
    if vendor == "postgresql":
        return f"jsonb_strip_nulls(jsonb_build_object({', '.join(pairs)}))"
    # json_patch drops the members whose value is null: the fields that did not change.
    return f"json_patch('{{}}', json_object({', '.join(pairs)}))"


# Each row's changes are built once: a plain subquery is merged into the statement, and its
# expression then built twice, for the WHERE and for the value (building it costs about
# 20 us a row; docs/performance.md, the sixteenth session). A subquery with an OFFSET
# (PostgreSQL) or a LIMIT (SQLite) is kept whole, and the WHERE is not pushed into it.
_ONCE = {"postgresql": "OFFSET 0", "sqlite": "LIMIT -1"}


def _owner_columns(tracked: Tracked, r: str) -> str:
    return ", ".join(
        (
            f"{r}.{tracked.pk}",
            tracked.budget.format(r=r),
            tracked.household.format(r=r),
            tracked.transaction.format(r=r),
        )
    )


# PostgreSQL ------------------------------------------------------------------------------


# Who and where, from the transaction's settings (history/context.py sends them), inline:
# a function returning them would be a function scan per statement.
_ACTOR = "nullif(current_setting('history.actor', true), '')::bigint"
_SOURCE = "coalesce(nullif(current_setting('history.source', true), ''), 'system')"
_REQUEST = "nullif(current_setting('history.request', true), '')"


def _postgresql_insert(tracked: Tracked, action: str, rows: str, old: str | None, new: str | None) -> str:
    """One statement's events, their ids in the order of the rows' ids: a transition table
    has no order of its own (a hash join read an import's four rows backwards). The sort
    costs about 45 ms of a 49,400-row import's 1.3 s of events."""
    owner = _owner_columns(tracked, new or old)
    joins = _budget_joins(tracked, *(r for r in (old, new) if r))
    changes = _changes(tracked, "postgresql", old, new)
    return f"""
        INSERT INTO {EVENT_TABLE} ({_COLUMNS})
        SELECT now(), '{tracked.object_type}', {owner}, '{action}', x.changes,
               {_ACTOR}, {_ACTOR} IS NOT NULL, {_SOURCE}, {_REQUEST}
        FROM {rows}{joins}
        CROSS JOIN LATERAL (SELECT {changes} AS changes {_ONCE["postgresql"]}) AS x
        WHERE x.changes <> '{{}}'::jsonb
        ORDER BY {new or old}.{tracked.pk};"""


def _postgresql_install(tracked: Tracked) -> list[str]:
    insert, update, delete = tracked.triggers()
    table, function, pk = tracked.table, tracked.function, tracked.pk
    created = _postgresql_insert(tracked, "create", "new_rows AS n", None, "n")
    both = f"old_rows AS o JOIN new_rows AS n ON n.{pk} = o.{pk}"
    updated = _postgresql_insert(tracked, "update", both, "o", "n")
    deleted = _postgresql_insert(tracked, "delete", "old_rows AS o", "o", None)
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN{created}
            ELSIF TG_OP = 'UPDATE' THEN{updated}
            ELSE{deleted}
            END IF;
            RETURN NULL;
        END $$""",
        *_postgresql_uninstall_triggers(tracked),
        f"CREATE TRIGGER {insert} AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {update} AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def _postgresql_uninstall_triggers(tracked: Tracked) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name} ON {tracked.table}" for name in tracked.triggers()]


# SQLite ----------------------------------------------------------------------------------


def _sqlite_insert(tracked: Tracked, action: str, old: str | None, new: str | None) -> str:
    owner = _owner_columns(tracked, new or old)
    return f"""
        INSERT INTO {EVENT_TABLE} ({_COLUMNS})
        SELECT history_now(), '{tracked.object_type}', {owner}, '{action}', x.changes,
               history_actor(), history_actor() IS NOT NULL, history_source(), history_request()
        FROM (SELECT {_changes(tracked, "sqlite", old, new)} AS changes {_ONCE["sqlite"]}) AS x
        WHERE x.changes <> '{{}}';"""


def _sqlite_install(tracked: Tracked) -> list[str]:
    insert, update, delete = tracked.triggers()
    table = tracked.table
    created = _sqlite_insert(tracked, "create", None, "NEW")
    updated = _sqlite_insert(tracked, "update", "OLD", "NEW")
    deleted = _sqlite_insert(tracked, "delete", "OLD", None)
    return [
        *_sqlite_uninstall(tracked),
        f"CREATE TRIGGER {insert} AFTER INSERT ON {table} BEGIN{created}\nEND",
        f"CREATE TRIGGER {update} AFTER UPDATE ON {table} BEGIN{updated}\nEND",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {table} BEGIN{deleted}\nEND",
    ]


def _sqlite_uninstall(tracked: Tracked) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in tracked.triggers()]


# Migrations ------------------------------------------------------------------------------


def install_sql(vendor: str, tracked: Tracked) -> list[str]:
    if vendor == "postgresql":
        return _postgresql_install(tracked)
    if vendor == "sqlite":
        return _sqlite_install(tracked)
    raise NotImplementedError(f"No change log triggers for {vendor}")


def uninstall_sql(vendor: str, tracked: Tracked) -> list[str]:
    if vendor == "postgresql":
        return [*_postgresql_uninstall_triggers(tracked), f"DROP FUNCTION IF EXISTS {tracked.function}()"]
    return _sqlite_uninstall(tracked)


def _run(schema_editor, statements) -> None:
    for sql in statements:
        schema_editor.execute(sql, params=None)


def history_triggers(*tracked: Tracked) -> tuple:
    """(install, uninstall) for a migration's RunPython: the change log of these tables."""

    def install(apps, schema_editor):
        for spec in tracked:
            _run(schema_editor, install_sql(schema_editor.connection.vendor, spec))

    def uninstall(apps, schema_editor):
        for spec in tracked:
            _run(schema_editor, uninstall_sql(schema_editor.connection.vendor, spec))

    return install, uninstall


def postgresql_functions_replaced(*tracked: Tracked) -> tuple:
    """(forward, backward) for a migration's RunPython that changes only what the tables'
    PostgreSQL functions write: CREATE OR REPLACE of each; the triggers stay as they are.
    Nothing to do on SQLite, whose row triggers are not touched (recreating them would
    change their firing order against later triggers, transactions migration 0008)."""

    def replace(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            _run(schema_editor, [_postgresql_install(spec)[0] for spec in tracked])

    return replace, replace


def statements_replaced(*tracked: Tracked) -> tuple:
    """(forward, backward) for a migration's RunPython that changes the statements the
    tables' triggers run, not when they fire. PostgreSQL: CREATE OR REPLACE of each
    function. SQLite: each table's change-log triggers dropped and created again; they are
    its newest (migrate creates them last), and the newest fires first, so their order
    against the table's other triggers stays as it was (test_triggers.py checks it)."""

    functions_replaced, _ = postgresql_functions_replaced(*tracked)

    def replace(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            functions_replaced(apps, schema_editor)
        else:
            _run(schema_editor, [sql for spec in tracked for sql in _sqlite_install(spec)])

    return replace, replace


def installed(connection, tracked: Tracked) -> bool:
    """Whether every trigger of ``tracked`` is in place (tests and checks)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    return set(tracked.triggers()) <= names


# What every table's triggers call (history migration 0001) --------------------------------


def _money_function() -> str:
    """history_money(minor units, currency) -> the exact decimal string, as the API writes
    it (money.amounts.format_amount), from MINOR_UNITS: a change there needs a migration
    that installs this again (test_triggers.py compares the two for every currency)."""
    by_places: dict[int, list[str]] = {}
    for code, places in sorted(MINOR_UNITS.items()):
        by_places.setdefault(places, []).append(code)
    cases = []
    for places, codes in sorted(by_places.items()):
        listed = ", ".join(f"'{code}'" for code in codes)
        text = "minor::text" if places == 0 else f"round(minor / {10**places}.0, {places})::text"
        cases.append(f"WHEN currency IN ({listed}) THEN {text}")
    return f"""CREATE OR REPLACE FUNCTION history_money(minor bigint, currency text) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN minor IS NULL OR currency IS NULL THEN NULL {" ".join(cases)} END
        $$"""


# An account's deletion leaves its events, with no actor (SET NULL, by the database: the
# events a deletion's own cascade writes are cleared too, and no event is read into Python).
POSTGRESQL_ACTOR_GONE = """
CREATE OR REPLACE FUNCTION history_actor_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE history_event SET actor_id = NULL WHERE actor_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS history_actor_deleted ON accounts_user;
CREATE TRIGGER history_actor_deleted AFTER DELETE ON accounts_user
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION history_actor_deleted();
"""
SQLITE_ACTOR_GONE = [
    "DROP TRIGGER IF EXISTS history_actor_deleted",
    """CREATE TRIGGER history_actor_deleted AFTER DELETE ON accounts_user BEGIN
        UPDATE history_event SET actor_id = NULL WHERE actor_id = OLD.id;
    END""",
]


def install_base(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _run(schema_editor, [_money_function(), POSTGRESQL_ACTOR_GONE])
    else:
        _run(schema_editor, SQLITE_ACTOR_GONE)


def uninstall_base(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        _run(
            schema_editor,
            [
                "DROP TRIGGER IF EXISTS history_actor_deleted ON accounts_user",
                "DROP FUNCTION IF EXISTS history_actor_deleted()",
                "DROP FUNCTION IF EXISTS history_money(bigint, text)",
            ],
        )
    else:
        _run(schema_editor, ["DROP TRIGGER IF EXISTS history_actor_deleted"])
