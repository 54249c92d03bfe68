from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from budgets.models import Budget, Category
from budgets.sync_fields import knowledge_field
from money.amounts import from_minor
from server.versioning import version_field
from transactions.querysets import TransactionQuerySet


class Kind(models.TextChoices):
    EXPENSE = "expense", "Expense"
    INCOME = "income", "Income"


class Transaction(models.Model):
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="transactions")
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="transactions"
    )
    # The person who recorded it; kept when they later lose access, cleared if their
    # account is deleted (the budget's owner keeps the record).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="transactions"
    )
    kind = models.CharField(max_length=7, choices=Kind.choices)
    amount_minor = models.BigIntegerField(help_text="Amount in the budget currency's minor units.")
    date = models.DateField()
    payee = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = version_field()
    knowledge = knowledge_field()

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            # The list's default order within the caller's budgets, and the date filters.
            # Each ordering the list offers has its (budget, field, id) index, scanned either way
            # for the per-budget top-N (transactions/pagination.py).
            # INCLUDE makes the period summary and report index-only on PostgreSQL (SQLite
            # ignores it; see SILENCED_SYSTEM_CHECKS).
            models.Index(
                fields=["budget", "date", "id"],
                include=["kind", "amount_minor", "category"],
                name="tx_budget_date_idx",
            ),
            # An amount-bounded list: each budget's matching range counted, and a sparse budget's
            # few matching rows found and sorted by date, index-only, also with ?kind= (the date
            # and the kind are included).
            models.Index(
                fields=["budget", "amount_minor", "id"], include=["date", "kind"], name="tx_budget_amount_idx"
            ),
            models.Index(fields=["budget", "created_at", "id"], name="tx_budget_created_idx"),
            # A category's rows in a date range: counted, and ordered by amount, index-only.
            models.Index(
                fields=["budget", "category", "-date"],
                include=["amount_minor", "id"],
                name="tx_budget_category_idx",
            ),
            models.Index(fields=["budget", "created_by"], name="tx_budget_creator_idx"),
            # ?kind=: each budget's matching rows counted index-only over their own range, and
            # the page read in date order straight off it (docs/performance.md, issue 16).
            models.Index(fields=["budget", "kind", "date", "id"], name="tx_budget_kind_idx"),
            # An unnarrowed or searched list over many budgets (an adviser's) walks the rows of
            # every budget in the order and keeps the caller's, index-only (pagination.walk_of).
            models.Index(fields=["date", "id"], include=["budget"], name="tx_walk_date_idx"),
            models.Index(fields=["amount_minor", "id"], include=["budget"], name="tx_walk_amount_idx"),
            # Delta sync: a budget's rows written after the client's knowledge.
            models.Index(fields=["budget", "knowledge"], name="tx_budget_sync_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="tx_amount_positive"),
            models.CheckConstraint(condition=Q(kind__in=["expense", "income"]), name="tx_kind_valid"),
        ]

    def __str__(self):
        return f"{self.date} {self.kind} {self.amount} {self.budget.currency}"

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor, self.budget.currency)

    def owned_by(self, user) -> bool:
        return self.budget.owned_by(user)


class BudgetTransactionCount(models.Model):
    """How many transactions a budget holds: the unfiltered list's ``count`` reads these
    instead of counting index entries (docs/performance.md).

    Kept exact by triggers on the transaction table (transactions/counting.py, installed
    by migration 0002), whatever writes the rows: services, bulk inserts, cascades, the
    shell. Nothing in Python writes it. On SQLite, a migration that rebuilds the
    transaction table drops its triggers: test_counting.py fails until they are
    reinstalled."""

    budget = models.OneToOneField(
        Budget, on_delete=models.CASCADE, primary_key=True, related_name="transaction_count"
    )
    total = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="tx_count_not_negative")]

    def __str__(self):
        return f"{self.budget_id}: {self.total}"


# Shared costs inside a household (transactions/splits/) ----------------------------------


class SplitMode(models.TextChoices):
    EQUAL = "equal", "Equal"
    EXACT = "exact", "Exact amounts"
    PERCENT = "percent", "Percentages"
    SHARES = "shares", "Weights"


class Split(models.Model):
    """Who paid a transaction and who it was for, among one household's members. Its shares
    (SplitShare) hold the exact minor units each member owes; they sum to the transaction's
    amount, always. The household reads it whatever later happens to the budget's sharing."""

    # Deleted with its transaction by a database trigger (transactions/splits/cascade.py), so
    # that deleting transactions stays one statement.
    transaction = models.OneToOneField(
        Transaction, on_delete=models.DO_NOTHING, primary_key=True, related_name="split"
    )
    household = models.ForeignKey("households.Household", on_delete=models.CASCADE, related_name="splits")
    # A deleted account keeps its place as "someone" (null): the split still sums to zero.
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="splits_paid"
    )
    mode = models.CharField(max_length=7, choices=SplitMode.choices)
    # The budget's currency, kept here for the household's aggregates (a budget's currency
    # cannot change while it holds amounts; a move to another budget rewrites the split).
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["household", "transaction"], name="split_household_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=["equal", "exact", "percent", "shares"]), name="split_mode_valid"
            ),
        ]

    def __str__(self):
        return f"split of transaction {self.transaction_id} in household {self.household_id}"


class SplitShare(models.Model):
    """One member's part of a split, in the split's currency's minor units, signed: positive
    for an expense (the member owes it to the payer), negative for an income (the payer
    received it for the member, and owes it to them). Household, currency and payer are the
    split's, kept on the row so that balances and debts are one index-only aggregate."""

    # Deleted with its split: by the transaction's trigger, or by splits.services.split_delete.
    split = models.ForeignKey(Split, on_delete=models.DO_NOTHING, related_name="shares")
    household = models.ForeignKey("households.Household", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="split_shares"
    )
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    amount_minor = models.BigIntegerField()
    # What the member was given: a percentage (percent mode) or a weight (shares mode);
    # kept so that a changed amount is divided again the same way.
    weight = models.DecimalField(max_digits=16, decimal_places=4, null=True)

    class Meta:
        ordering = ["split", "user"]
        indexes = [
            models.Index(
                fields=["household", "currency", "user", "payer"],
                include=["amount_minor"],
                name="split_share_balance_idx",
            ),
            models.Index(fields=["user", "household"], name="split_share_member_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["split", "user"], name="split_share_one_per_member"),
        ]

    def __str__(self):
        return f"{self.user_id}: {self.amount_minor} {self.currency}"


class SettlementKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    WRITE_OFF = "write_off", "Written off"


class Settlement(models.Model):
    """Money paid from one member to another (``payment``), or what was still owed between a
    member and the others when the owner removed them by force (``write_off``): it moves
    balances, never a budget. Splits come and go with their transactions; settlements stay."""

    household = models.ForeignKey(
        "households.Household", on_delete=models.CASCADE, related_name="settlements"
    )
    kind = models.CharField(max_length=9, choices=SettlementKind.choices, default=SettlementKind.PAYMENT)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="settlements_paid"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="settlements_received"
    )
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    date = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="settlements_recorded"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(
                fields=["household", "currency", "from_user", "to_user"],
                include=["amount_minor"],
                name="settlement_balance_idx",
            ),
            models.Index(fields=["household", "date", "id"], name="settlement_ledger_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="settlement_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=["payment", "write_off"]), name="settlement_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(from_user=models.F("to_user")), name="settlement_between_two_members"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount_minor} {self.currency} {self.from_user_id} -> {self.to_user_id}"


class BudgetMonthTotal(models.Model):
    """The sum and number of a budget's transactions of one kind and category in one month:
    the monthly report reads these instead of its transactions (docs/performance.md).

    Kept exact by triggers on the transaction table (transactions/month_totals.py, installed
    by migration 0005), whatever writes the rows, as BudgetTransactionCount is. Nothing in
    Python writes it. A key whose last row goes is deleted, so every row here has
    ``entries`` > 0. On SQLite, a migration that rebuilds the transaction table drops its
    triggers: month_totals.reinstall_on_sqlite() puts them back, as counting's does."""

    # Its own index would repeat the unique key's first column.
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField(help_text="The month's first day.")
    kind = models.CharField(max_length=7, choices=Kind.choices)
    # Not a foreign key: a deleted category's rows move to 0 (none) by the trigger on the
    # transactions' SET NULL, and a foreign key's cascade would race that move.
    category_key = models.BigIntegerField(help_text="The category's id; 0 for none.")
    total_minor = models.BigIntegerField(default=0)
    entries = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "month", "kind", "category_key"], name="tx_month_total_key"
            ),
        ]
        indexes = [
            # The triggers delete the keys left empty: only those are in this index.
            models.Index(fields=["budget"], condition=Q(entries=0), name="tx_month_total_empty_idx"),
        ]

    def __str__(self):
        return f"{self.budget_id} {self.month:%Y-%m} {self.kind} {self.category_key}: {self.total_minor}"
