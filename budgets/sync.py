"""Delta sync, kept by the database: each budget's ``server_knowledge``, each row's
``knowledge`` and the tombstones of deleted rows (README, "History and sync").

- A budget's knowledge (BudgetKnowledge) goes up by one in every transaction that writes
  the budget, its categories or its transactions, however the write is made: the first such
  write of the transaction raises it (one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``,
  whose row lock every other writer of the budget then waits for, as they already wait for
  the budget's own lock), and every row the transaction writes gets that value in its
  ``knowledge`` column. Writers of one budget are serialised, so a budget's knowledge orders
  its committed changes exactly: a client that has seen everything up to N asks for the
  rows whose knowledge is above N.
- A deleted category or transaction leaves a Tombstone (its budget, type, id and the
  knowledge of the deletion); so does a transaction moved out of a budget (and one moved
  back loses its tombstone there). A budget's own deletion takes its knowledge and
  tombstones with it: its clients get a 404 and drop it.
- ``manage.py prune_tombstones`` removes tombstones older than TOMBSTONE_RETENTION_DAYS and
  raises the budget's ``tombstone_floor`` to the highest knowledge it removed: a client whose
  knowledge is below the floor may have missed a deletion and must sync again (410).

"Once per transaction": on PostgreSQL the knowledge row names the transaction that raised it
last (``last_transaction``, ``pg_current_xact_id()``: the top-level transaction's, the same
in every savepoint), so a write finds with one index lookup whether its transaction raised
it already, however many budgets the transaction writes; a savepoint rolled back takes its
raise with it. SQLite keeps the raised budgets in the connection's per-transaction memo
(history/context.py, ``tx_memo``). Categories and transactions install their triggers with
``row_triggers(...)``; budgets with ``budget_triggers()``.
"""

KNOWLEDGE_TABLE = "budgets_budgetknowledge"
TOMBSTONE_TABLE = "budgets_tombstone"

POSTGRESQL_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION sync_knowledge(p_budget bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    me bigint := pg_current_xact_id()::text::bigint;
    k bigint;
    raised_by bigint;
BEGIN
    SELECT s.server_knowledge, s.last_transaction INTO k, raised_by
    FROM {KNOWLEDGE_TABLE} AS s WHERE s.budget_id = p_budget;
    IF raised_by = me THEN
        RETURN k;  -- this transaction raised it already
    END IF;
    INSERT INTO {KNOWLEDGE_TABLE} AS s (budget_id, server_knowledge, tombstone_floor, last_transaction)
    VALUES (p_budget, 1, 0, me)
    ON CONFLICT (budget_id) DO UPDATE
        SET server_knowledge = s.server_knowledge + 1, last_transaction = EXCLUDED.last_transaction
        WHERE s.last_transaction IS DISTINCT FROM EXCLUDED.last_transaction
    RETURNING s.server_knowledge INTO k;
    IF k IS NULL THEN
        -- Raised by this transaction between the two statements (a trigger's own write).
        SELECT s.server_knowledge INTO k FROM {KNOWLEDGE_TABLE} AS s WHERE s.budget_id = p_budget;
    END IF;
    RETURN k;
END $$;

CREATE OR REPLACE FUNCTION sync_row_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.knowledge := sync_knowledge(NEW.budget_id);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION sync_budget_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sync_knowledge(NEW.id);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION sync_budget_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {KNOWLEDGE_TABLE} WHERE budget_id IN (SELECT id FROM old_rows);
    DELETE FROM {TOMBSTONE_TABLE} WHERE budget_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END $$;
"""

POSTGRESQL_BUDGET = """
DROP TRIGGER IF EXISTS budgets_budget_sync ON budgets_budget;
DROP TRIGGER IF EXISTS budgets_budget_sync_deleted ON budgets_budget;
CREATE TRIGGER budgets_budget_sync AFTER INSERT OR UPDATE ON budgets_budget
    FOR EACH ROW EXECUTE FUNCTION sync_budget_written();
CREATE TRIGGER budgets_budget_sync_deleted AFTER DELETE ON budgets_budget
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sync_budget_deleted();
"""


def _postgresql_rows(table: str, object_type: str, movable: bool) -> list[str]:
    statements = [
        f"""CREATE OR REPLACE FUNCTION sync_{table}_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {TOMBSTONE_TABLE} (budget_id, object_type, object_id, knowledge, deleted_at)
            SELECT o.budget_id, '{object_type}', o.id, sync_knowledge(o.budget_id), now()
            FROM old_rows AS o ORDER BY o.budget_id, o.id;
            RETURN NULL;
        END $$""",
        *_postgresql_drop_rows(table),
        f"CREATE TRIGGER {table}_sync BEFORE INSERT OR UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION sync_row_written()",
        f"CREATE TRIGGER {table}_sync_deleted AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION sync_{table}_deleted()",
    ]
    if movable:
        statements += [
            f"""CREATE OR REPLACE FUNCTION sync_{table}_moved() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {TOMBSTONE_TABLE} (budget_id, object_type, object_id, knowledge, deleted_at)
                VALUES (OLD.budget_id, '{object_type}', OLD.id, sync_knowledge(OLD.budget_id), now());
                DELETE FROM {TOMBSTONE_TABLE}
                WHERE budget_id = NEW.budget_id AND object_type = '{object_type}' AND object_id = NEW.id;
                RETURN NULL;
            END $$""",
            f"CREATE TRIGGER {table}_sync_moved AFTER UPDATE OF budget_id ON {table} FOR EACH ROW "
            f"WHEN (OLD.budget_id IS DISTINCT FROM NEW.budget_id) EXECUTE FUNCTION sync_{table}_moved()",
        ]
    return statements


def _postgresql_drop_rows(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_sync ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_sync_deleted ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_sync_moved ON {table}",
    ]


# SQLite -----------------------------------------------------------------------------------


def _memo(budget: str) -> str:
    return f"tx_memo('k' || {budget})"


def _sqlite_bump(budget: str) -> str:
    """Raises the budget's knowledge unless this transaction did already, and remembers it."""
    return f"""
        INSERT INTO {KNOWLEDGE_TABLE} (budget_id, server_knowledge, tombstone_floor)
            SELECT {budget}, 1, 0 WHERE {_memo(budget)} IS NULL
                OR NOT EXISTS (SELECT 1 FROM {KNOWLEDGE_TABLE} WHERE budget_id = {budget})
            ON CONFLICT (budget_id) DO UPDATE SET server_knowledge = server_knowledge + 1;
        SELECT tx_memo_set('k' || {budget},
            (SELECT server_knowledge FROM {KNOWLEDGE_TABLE} WHERE budget_id = {budget}));"""


# The row's own follow-up UPDATEs (a new row's knowledge; a changed row's version and
# knowledge) are told from the statements that write it by what they change: a first
# knowledge on an unchanged version, or a new version. Every other UPDATE is a write.
_WRITE_WHEN = "NEW.version = OLD.version AND NOT (OLD.knowledge IS NULL AND NEW.knowledge IS NOT NULL)"


def _sqlite_rows(table: str, object_type: str, movable: bool) -> list[str]:
    tombstone = (
        f"INSERT INTO {TOMBSTONE_TABLE} (budget_id, object_type, object_id, knowledge, deleted_at) "
        f"VALUES (OLD.budget_id, '{object_type}', OLD.id, {_memo('OLD.budget_id')}, history_now());"
    )
    statements = [
        *_sqlite_drop_rows(table),
        f"""CREATE TRIGGER {table}_sync_insert AFTER INSERT ON {table} BEGIN{_sqlite_bump("NEW.budget_id")}
            UPDATE {table} SET knowledge = {_memo("NEW.budget_id")} WHERE id = NEW.id;
        END""",
        # The row version trigger (server/versioning.py), which also sets the knowledge: one
        # follow-up UPDATE of the row rather than two.
        f"""CREATE TRIGGER {table}_version AFTER UPDATE ON {table} WHEN {_WRITE_WHEN}
        BEGIN{_sqlite_bump("NEW.budget_id")}
            UPDATE {table} SET version = OLD.version + 1, knowledge = {_memo("NEW.budget_id")}
            WHERE id = NEW.id;
        END""",
        f"""CREATE TRIGGER {table}_sync_deleted AFTER DELETE ON {table}
        BEGIN{_sqlite_bump("OLD.budget_id")}
            {tombstone}
        END""",
    ]
    if movable:
        statements.append(
            f"""CREATE TRIGGER {table}_sync_moved AFTER UPDATE OF budget_id ON {table}
            WHEN OLD.budget_id IS NOT NEW.budget_id BEGIN{_sqlite_bump("OLD.budget_id")}
                {tombstone}
                DELETE FROM {TOMBSTONE_TABLE}
                WHERE budget_id = NEW.budget_id AND object_type = '{object_type}' AND object_id = NEW.id;
            END"""
        )
    return statements


def _sqlite_drop_rows(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_{name}"
        for name in ("sync_insert", "version", "sync_deleted", "sync_moved")
    ]


SQLITE_BUDGET = [
    "DROP TRIGGER IF EXISTS budgets_budget_sync_insert",
    "DROP TRIGGER IF EXISTS budgets_budget_sync_update",
    "DROP TRIGGER IF EXISTS budgets_budget_sync_deleted",
    f"""CREATE TRIGGER budgets_budget_sync_insert AFTER INSERT ON budgets_budget
    BEGIN{_sqlite_bump("NEW.id")}
    END""",
    # Not the version trigger's own follow-up (a new version): the write it follows raised it.
    f"""CREATE TRIGGER budgets_budget_sync_update AFTER UPDATE ON budgets_budget
    WHEN NEW.version = OLD.version BEGIN{_sqlite_bump("NEW.id")}
    END""",
    f"""CREATE TRIGGER budgets_budget_sync_deleted AFTER DELETE ON budgets_budget BEGIN
        DELETE FROM {KNOWLEDGE_TABLE} WHERE budget_id = OLD.id;
        DELETE FROM {TOMBSTONE_TABLE} WHERE budget_id = OLD.id;
    END""",
]


# Migrations -------------------------------------------------------------------------------


def _run(schema_editor, statements) -> None:
    for sql in statements:
        schema_editor.execute(sql, params=None)


def budget_triggers() -> tuple:
    """(install, uninstall): the functions every sync trigger calls, and the budget's own
    triggers (a write raises its knowledge; its deletion takes its knowledge and tombstones)."""

    def install(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            _run(schema_editor, [POSTGRESQL_FUNCTIONS, POSTGRESQL_BUDGET])
        else:
            _run(schema_editor, SQLITE_BUDGET)

    def uninstall(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            _run(
                schema_editor,
                [
                    "DROP TRIGGER IF EXISTS budgets_budget_sync ON budgets_budget",
                    "DROP TRIGGER IF EXISTS budgets_budget_sync_deleted ON budgets_budget",
                    "DROP FUNCTION IF EXISTS sync_budget_deleted()",
                    "DROP FUNCTION IF EXISTS sync_budget_written()",
                    "DROP FUNCTION IF EXISTS sync_row_written()",
                    "DROP FUNCTION IF EXISTS sync_knowledge(bigint)",
                ],
            )
        else:
            _run(schema_editor, SQLITE_BUDGET[:3])

    return install, uninstall


def row_triggers(table: str, object_type: str, *, movable: bool = False) -> tuple:
    """(install, uninstall): the knowledge of each row of ``table`` (categories,
    transactions) and the tombstones of its deleted rows (and, ``movable``, of rows moved to
    another budget). On SQLite this takes over the table's row version trigger, which the
    uninstall puts back as server/versioning.py writes it."""
    from server.versioning import version_triggers

    def install(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            _run(schema_editor, _postgresql_rows(table, object_type, movable))
        else:
            _run(schema_editor, _sqlite_rows(table, object_type, movable))

    def uninstall(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            _run(
                schema_editor,
                [
                    *_postgresql_drop_rows(table),
                    f"DROP FUNCTION IF EXISTS sync_{table}_deleted()",
                    f"DROP FUNCTION IF EXISTS sync_{table}_moved()",
                ],
            )
        else:
            _run(schema_editor, _sqlite_drop_rows(table))
            version_triggers(table)[0](apps, schema_editor)

    return install, uninstall


# Reading ----------------------------------------------------------------------------------

KNOWLEDGE_HEADER = "Server-Knowledge"
KNOWLEDGE_HEADER_DOC = {
    KNOWLEDGE_HEADER: {
        "description": "The server knowledge of each budget this write changed, after it: "
        '"<budget id>=<knowledge>", comma-separated ("12=481"). Equal to your last known + 1: '
        "your write was the only change since; otherwise ask changes/ (README, History and sync).",
        "schema": {"type": "string", "pattern": r"^\d+=\d+(, \d+=\d+)*$"},
    }
}


def knowledge_of(budget_ids) -> dict[int, int]:
    """Each budget's server knowledge (0 for one never written since the feature came)."""
    from budgets.models import BudgetKnowledge

    ids = sorted(set(budget_ids))
    kept = dict(
        BudgetKnowledge.objects.filter(budget_id__in=ids).values_list("budget_id", "server_knowledge")
    )
    return {pk: kept.get(pk, 0) for pk in ids}


class KnowledgeHeaderMixin:
    """For the viewsets that write budgets, categories and transactions: a successful
    write's answer carries each written budget's new knowledge in ``Server-Knowledge``
    (one query, after the write, unless the created row brought it back). The actions say
    which budgets with ``wrote(...)``, or ``wrote_row(row)`` for a row they created."""

    knowledge_actions: tuple[str, ...] = ()

    def wrote(self, *budget_ids: int) -> None:
        self._knowledge_budgets = {*getattr(self, "_knowledge_budgets", set()), *budget_ids}

    def wrote_row(self, row) -> None:
        """A row this request created: its knowledge, when its INSERT returned it
        (PostgreSQL: budgets/sync_fields.py), is its budget's after the write, exact and
        without a read; otherwise the budget's is read as for wrote()."""
        self.wrote(row.budget_id)
        if row.knowledge is not None:
            self._known_knowledge = {**getattr(self, "_known_knowledge", {}), row.budget_id: row.knowledge}

    @property
    def response_headers(self) -> dict:
        """For the schema (server.openapi.AutoSchema): the header, on these actions' 2xx."""
        return dict.fromkeys(self.knowledge_actions, KNOWLEDGE_HEADER_DOC)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        budgets = getattr(self, "_knowledge_budgets", None)
        if budgets and 200 <= response.status_code < 300:
            returned = getattr(self, "_known_knowledge", {})
            read = knowledge_of(budgets - returned.keys()) if budgets - returned.keys() else {}
            known = {**read, **returned}
            response[KNOWLEDGE_HEADER] = ", ".join(f"{pk}={known[pk]}" for pk in sorted(known))
        return response


def prune_tombstones(*, older_than) -> tuple[int, int]:
    """Deletes the tombstones older than ``older_than`` (a timedelta) and raises each of their
    budgets' tombstone floor to the highest knowledge deleted, in one transaction: a client
    that knows less than the floor gets 410 (it may have missed one of them). Returns
    (tombstones deleted, budgets whose floor rose)."""
    from django.db import transaction
    from django.db.models import Max
    from django.utils import timezone

    from budgets.models import BudgetKnowledge, Tombstone

    cutoff = timezone.now() - older_than
    with transaction.atomic():
        expired = Tombstone.objects.filter(deleted_at__lt=cutoff)
        per_budget = expired.order_by().values("budget_id").annotate(top=Max("knowledge"))
        floors = sorted(per_budget.values_list("budget_id", "top"))
        for budget_id, top in floors:
            BudgetKnowledge.objects.filter(budget_id=budget_id, tombstone_floor__lt=top).update(
                tombstone_floor=top
            )
        deleted, _ = expired.delete()
    return deleted, len(floors)
