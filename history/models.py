from django.conf import settings
from django.db import models
from django.db.models import Q


class Action(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"


class Source(models.TextChoices):
    API = "api", "API"
    BULK = "bulk", "Bulk create"
    IMPORT = "import", "CSV import"
    ADMIN = "admin", "Admin"
    SYSTEM = "system", "System"


class ObjectType(models.TextChoices):
    BUDGET = "budget", "Budget"
    CATEGORY = "category", "Category"
    TRANSACTION = "transaction", "Transaction"
    SHARE = "share", "Share or grant"
    MEMBERSHIP = "membership", "Membership"
    SPLIT = "split", "Split"
    SPLIT_SHARE = "split_share", "Member's part of a split"
    SETTLEMENT = "settlement", "Settlement"


class Event(models.Model):
    """One changed row: written by the database's triggers (history/triggers.py) in the
    transaction that changed it, never by Python. ``budget_id``, ``household_id`` and
    ``transaction_id`` say what the row belonged to when it changed; they are plain
    numbers, not foreign keys, so the history outlives the rows (a deleted transaction's
    events stay in its budget's history)."""

    created_at = models.DateTimeField(help_text="When the change was written.")
    object_type = models.CharField(max_length=12, choices=ObjectType.choices)
    object_id = models.BigIntegerField()
    budget_id = models.BigIntegerField(null=True)
    household_id = models.BigIntegerField(null=True)
    transaction_id = models.BigIntegerField(
        null=True, help_text="A transaction's, its split's and its members' parts' events name it."
    )
    action = models.CharField(max_length=6, choices=Action.choices)
    changes = models.JSONField(help_text='{"field": [old, new], ...}; money as exact decimal strings.')
    # SET NULL when the account is deleted, by a database trigger (history/triggers.py): no
    # foreign key to check on each of an import's 50,000 events, and no event is read into
    # Python when an account goes.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    had_actor = models.BooleanField(
        help_text="A signed-in user made it (null actor since: a deleted account)."
    )
    source = models.CharField(max_length=6, choices=Source.choices)
    request_id = models.CharField(max_length=64, null=True)

    class Meta:
        ordering = ["-id"]
        # What the routes read, newest first: a budget's history; a transaction's (with its
        # split's); a category's; a household's own events (memberships, settlements, its
        # splits and shares). Partial where most rows have nothing to index: a transaction's
        # event costs four index entries (with the primary key and the actor's). Pruning
        # finds its boundary on the primary key (prune_history), with no index of its own.
        # The budget's and the household's carry the columns the filters read (INCLUDE,
        # PostgreSQL), so a page's ids come from the index alone (history/api.py).
        indexes = [
            models.Index(
                fields=["budget_id", "-id"],
                include=["object_type", "actor_id", "created_at"],
                name="history_budget_idx",
            ),
            models.Index(
                fields=["transaction_id", "-id"],
                condition=Q(transaction_id__isnull=False),
                name="history_transaction_idx",
            ),
            models.Index(
                fields=["object_id", "-id"], condition=Q(object_type="category"), name="history_category_idx"
            ),
            models.Index(
                fields=["household_id", "-id"],
                include=["budget_id", "object_type", "actor_id", "created_at"],
                condition=Q(household_id__isnull=False),
                name="history_household_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=Action.values), name="history_action_valid"),
        ]

    def __str__(self):
        return f"{self.action} {self.object_type} {self.object_id}"
