"""Row versions: the ``version`` column behind ETags and If-Match (docs/architecture.md).

The database bumps it, by a trigger on every UPDATE of the row, so that every write path
changes it: the services, the Django admin, QuerySet.update, a category's deletion nulling
its transactions' category (SET_NULL), the shell. Application code never sets it; a write
that must not overwrite a newer row updates ``WHERE id = ... AND version = <the version it
read>`` (save_fields) and answers 412 or 409 when that matches nothing.
"""

from django.db import models

from server.exceptions import Conflict

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION bump_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$;
"""


def _trigger_name(table: str) -> str:
    return f"{table}_version"


def _install_sql(vendor: str, table: str) -> list[str]:
    name = _trigger_name(table)
    if vendor == "postgresql":
        return [
            POSTGRESQL_FUNCTION,
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION bump_row_version()",
        ]
    if vendor == "sqlite":
        # SQLite cannot assign NEW; the trigger's own UPDATE does not fire it again
        # (recursive triggers are off), and its WHEN makes that hold even if they were on.
        return [
            f"DROP TRIGGER IF EXISTS {name}",
            # Table names come from migrations, never from input.
            f"""CREATE TRIGGER {name} AFTER UPDATE ON {table} WHEN NEW.version = OLD.version BEGIN
                UPDATE {table} SET version = OLD.version + 1 WHERE id = NEW.id;
            END""",  # noqa: S608
        ]
    raise NotImplementedError(f"No row version trigger for {vendor}")


def _uninstall_sql(vendor: str, table: str) -> list[str]:
    name = _trigger_name(table)
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {name}"]


def version_triggers(*tables: str) -> tuple:
    """(install, uninstall) for a migration's RunPython, for the given tables."""

    def install(apps, schema_editor):
        for table in tables:
            for sql in _install_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(sql, params=None)

    def uninstall(apps, schema_editor):
        for table in tables:
            for sql in _uninstall_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(sql, params=None)

    return install, uninstall


def _parent_trigger_name(child: str) -> str:
    return f"{child}_touch"


def _install_parent_sql(
    vendor: str, child: str, fk: str, parent: str, update_of: tuple[str, ...]
) -> list[str]:
    name = _parent_trigger_name(child)
    bump = f"UPDATE {parent} SET version = version + 1 WHERE id"  # noqa: S608 (names from migrations)
    of = f" OF {', '.join(update_of)}" if update_of else ""
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {bump} = NEW.{fk};
                ELSIF TG_OP = 'DELETE' THEN
                    {bump} = OLD.{fk};
                ELSE
                    {bump} IN (OLD.{fk}, NEW.{fk});
                END IF;
                RETURN NULL;
            END $$""",
            f"DROP TRIGGER IF EXISTS {name} ON {child}",
            f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE{of} ON {child} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    if vendor == "sqlite":
        return [
            *_uninstall_parent_sql(vendor, child),
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {child} BEGIN {bump} = NEW.{fk}; END",
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON {child} BEGIN {bump} = OLD.{fk}; END",
            f"CREATE TRIGGER {name}_update AFTER UPDATE{of} ON {child} "
            f"BEGIN {bump} IN (OLD.{fk}, NEW.{fk}); END",
        ]
    raise NotImplementedError(f"No parent version trigger for {vendor}")


def _uninstall_parent_sql(vendor: str, child: str) -> list[str]:
    name = _parent_trigger_name(child)
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {child}", f"DROP FUNCTION IF EXISTS {name}()"]
    return [f"DROP TRIGGER IF EXISTS {name}_{event}" for event in ("insert", "delete", "update")]


def parent_version_triggers(child: str, *, fk: str, parent: str, update_of: tuple[str, ...] = ()) -> tuple:
    """(install, uninstall) for a migration's RunPython: a row of ``child`` inserted, deleted
    or changed (in ``update_of``'s columns, or any) is a new version of the ``parent`` row its
    ``fk`` names, because the parent's representation shows it (a household's member count
    and the caller's role; a budget's shares, which decide the caller's my_permissions). So
    an ETag, and a 304 to If-None-Match, never outlives what the object's JSON says. A
    parent gone meanwhile (a cascade deletes children first) is simply not updated."""

    def install(apps, schema_editor):
        for sql in _install_parent_sql(schema_editor.connection.vendor, child, fk, parent, update_of):
            schema_editor.execute(sql, params=None)

    def uninstall(apps, schema_editor):
        for sql in _uninstall_parent_sql(schema_editor.connection.vendor, child):
            schema_editor.execute(sql, params=None)

    return install, uninstall


def _trigger_names(connection) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def installed_parent_triggers(connection, *children: str) -> set[str]:
    """The tables among ``children`` whose parent-version trigger(s) are in place."""
    names = _trigger_names(connection)
    suffixes = ("",) if connection.vendor == "postgresql" else ("_insert", "_delete", "_update")
    return {
        child for child in children if all(f"{_parent_trigger_name(child)}{s}" in names for s in suffixes)
    }


def installed_version_triggers(connection, *tables: str) -> set[str]:
    """The tables among ``tables`` whose version trigger is in place (tests and checks)."""
    names = _trigger_names(connection)
    return {table for table in tables if _trigger_name(table) in names}


def version_field() -> models.PositiveBigIntegerField:
    # db_default too: rows written without the ORM (the import's COPY, seeding) start at 1.
    return models.PositiveBigIntegerField(
        default=1,
        db_default=1,
        editable=False,
        help_text="Changes on every write to the row (a database trigger); the ETag is <id>-<version>.",
    )


class ConcurrentChange(Conflict):
    default_detail = "Someone else changed this item at the same moment; nothing was written. Read it again."
    default_code = "concurrent_change"


def _changed_meanwhile(obj: models.Model, precondition) -> None:
    if precondition is not None and precondition.sent:
        precondition.fail_against(type(obj)._base_manager.filter(pk=obj.pk).first())
    raise ConcurrentChange()


def save_fields(obj: models.Model, fields, *, precondition=None) -> None:
    """UPDATE of ``fields`` (as save(update_fields=...) would write them, auto_now included)
    on the row only if it still has the version ``obj`` was read with: the check and the
    write are one statement. Matching nothing means a writer that does not take the row's
    lock (the admin, a cascade) got in between: 412 when the caller sent If-Match, else 409.
    ``obj.version`` is then the row's new version (the trigger added one)."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        values[field.attname] = field.pre_save(obj, False)
    if not values:
        return  # nothing sent (PATCH {}): no write, the version stays
    updated = type(obj)._base_manager.filter(pk=obj.pk, version=obj.version).update(**values)
    if not updated:
        _changed_meanwhile(obj, precondition)
    obj.version += 1


def delete_at_version(obj: models.Model, *, precondition=None) -> None:
    """DELETE (with its cascades) of the row only at the version ``obj`` was read with."""
    deleted, _ = type(obj)._base_manager.filter(pk=obj.pk, version=obj.version).delete()
    if not deleted:
        _changed_meanwhile(obj, precondition)
