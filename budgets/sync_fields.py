from django.db import connection, models


class KnowledgeField(models.BigIntegerField):
    """Returned by the INSERT (RETURNING) where the database can: on PostgreSQL a BEFORE
    trigger sets it, so a new row knows its knowledge without a read (the write's
    Server-Knowledge, budgets/sync.py). SQLite's trigger runs after the INSERT, whose
    RETURNING so says NULL: the header reads it then. Migrations see a BigIntegerField."""

    @property
    def db_returning(self):
        return connection.features.can_return_columns_from_insert

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.BigIntegerField", args, kwargs


def knowledge_field() -> models.BigIntegerField:
    """A category's or transaction's knowledge: its budget's ``server_knowledge`` when it was
    last written (set by a database trigger, budgets/sync.py; null: not written since the
    feature came). Delta sync returns the rows whose knowledge is above the client's."""
    return KnowledgeField(
        null=True,
        editable=False,
        help_text="Its budget's server knowledge at its last write (a database trigger sets it).",
    )
