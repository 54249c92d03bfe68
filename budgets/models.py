from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from budgets.querysets import BudgetQuerySet, CategoryQuerySet
from budgets.sync_fields import knowledge_field
from money.amounts import from_minor
from money.currencies import CURRENCY_CHOICES
from server.versioning import version_field


class Period(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    YEARLY = "yearly", "Yearly"
    CUSTOM = "custom", "Custom"


class Budget(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="budgets")
    name = models.CharField(max_length=100)
    amount_minor = models.BigIntegerField(help_text="The budgeted amount in the currency's minor units.")
    currency = models.CharField(max_length=3, choices=[(c, c) for c in CURRENCY_CHOICES])
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    start_date = models.DateField(help_text="Anchors the periods.")
    end_date = models.DateField(null=True, blank=True, help_text="Custom periods only.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = version_field()

    objects = BudgetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("manage_grants", "Can grant and revoke access to any budget")]
        indexes = [models.Index(fields=["owner", "-created_at"], name="budgets_owner_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="budgets_budget_amount_positive"),
            models.CheckConstraint(
                condition=(Q(period="custom") & Q(end_date__isnull=False) & Q(end_date__gt=F("start_date")))
                | (~Q(period="custom") & Q(end_date__isnull=True)),
                name="budgets_budget_end_date_custom_only",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor, self.currency)

    def owned_by(self, user) -> bool:
        return self.owner_id is not None and self.owner_id == getattr(user, "pk", None)

    def period_bounds(self, on_date: date) -> tuple[date, date]:
        """The budget period (inclusive bounds) that contains ``on_date``."""
        start = self.start_date
        if self.period == Period.CUSTOM:
            return start, self.end_date
        if self.period == Period.WEEKLY:
            offset = (on_date - start).days // 7
            first = start + timedelta(weeks=offset)
            return first, first + timedelta(days=6)
        step = 12 if self.period == Period.YEARLY else 1
        months = (on_date.year - start.year) * 12 + (on_date.month - start.month)
        index = months // step
        first = _add_months(start, index * step)
        if first > on_date:
            index -= 1
            first = _add_months(start, index * step)
        following = _add_months(start, (index + 1) * step)
        return first, following - timedelta(days=1)


def _add_months(anchor: date, months: int) -> date:
    """``anchor`` moved by whole months, its day clamped to the month's length."""
    import calendar

    total = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(total, 12)
    day = min(anchor.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


class Category(models.Model):
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=100)
    allocated_minor = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = version_field()
    knowledge = knowledge_field()

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"
        indexes = [models.Index(fields=["budget", "knowledge"], name="budgets_category_sync_idx")]
        constraints = [
            models.UniqueConstraint("budget", Lower("name"), name="budgets_category_name_ci_unique"),
            models.CheckConstraint(
                condition=Q(allocated_minor__isnull=True) | Q(allocated_minor__gte=0),
                name="budgets_category_allocated_not_negative",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def allocated(self) -> Decimal | None:
        return from_minor(self.allocated_minor, self.budget.currency)

    def owned_by(self, user) -> bool:
        return self.budget.owned_by(user)


class GrantSource(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Site admin"


class _GrantRecord(models.Model):
    """Who made a share and when. Rows made on the admin's object-permissions page
    have no explicit source, so they default to "admin"."""

    source = models.CharField(max_length=5, choices=GrantSource.choices, default=GrantSource.ADMIN)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class BudgetUserObjectPermission(UserObjectPermissionBase, _GrantRecord):  # noqa: DJ008 (guardian has __str__)
    content_object = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="user_shares")

    # guardian's unique (user, permission, content_object) is the scoping index:
    # "which budgets may this user view" is an index-only lookup.
    class Meta(UserObjectPermissionBase.Meta):
        pass


class BudgetGroupObjectPermission(GroupObjectPermissionBase, _GrantRecord):  # noqa: DJ008
    content_object = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="group_shares")

    class Meta(GroupObjectPermissionBase.Meta):
        pass


# Delta sync (budgets/sync.py): kept by database triggers, never written from Python -------


class BudgetKnowledge(models.Model):
    """A budget's ``server_knowledge``: raised once by every transaction that writes the
    budget, its categories or its transactions. No row: nothing written since the feature
    came (knowledge 0). Not a foreign key: the budget's deletion trigger removes it."""

    budget_id = models.BigIntegerField(primary_key=True)
    server_knowledge = models.BigIntegerField(default=0, db_default=0)
    tombstone_floor = models.BigIntegerField(
        default=0,
        db_default=0,
        help_text="The tombstones up to this knowledge were pruned: a client that knows less syncs again.",
    )
    last_transaction = models.BigIntegerField(
        null=True, help_text="PostgreSQL: the transaction (pg_current_xact_id) that raised it last."
    )

    def __str__(self):
        return f"{self.budget_id}: {self.server_knowledge}"


class Tombstone(models.Model):
    """A category or transaction that left a budget (deleted, or moved to another), and the
    budget's knowledge then: what a delta sync reports as ``{"id": ..., "deleted": true}``."""

    budget_id = models.BigIntegerField()
    object_type = models.CharField(max_length=11)
    object_id = models.BigIntegerField()
    knowledge = models.BigIntegerField()
    deleted_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["budget_id", "knowledge"], name="budgets_tombstone_sync_idx"),
            models.Index(fields=["deleted_at"], name="budgets_tombstone_age_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(object_type__in=["category", "transaction"]), name="budgets_tombstone_type_valid"
            ),
        ]

    def __str__(self):
        return f"{self.object_type} {self.object_id} left budget {self.budget_id} at {self.knowledge}"
