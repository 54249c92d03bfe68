from django.db import models


def knowledge_field() -> models.BigIntegerField:
    """A category's or transaction's knowledge: its budget's ``server_knowledge`` when it was
    last written (set by a database trigger, budgets/sync.py; null: not written since the
    feature came). Delta sync returns the rows whose knowledge is above the client's."""
    return models.BigIntegerField(
        null=True,
        editable=False,
        help_text="Its budget's server knowledge at its last write (a database trigger sets it).",
    )
