"""Transactions in the admin: read-only (their rules live in the API's services: nothing is
added, changed or deleted here), amounts shown exactly in their budget's currency."""

from django.contrib import admin

from money.admin import money
from transactions.models import Settlement, Split, SplitShare, Transaction


class _ReadOnly(admin.ModelAdmin):
    """Transactions and shared costs change only through the API's services (their locks
    and checks): the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(_ReadOnly):
    list_display = ["date", "kind", "amount_display", "budget", "category", "payee", "created_by"]
    list_select_related = ["budget", "category", "created_by"]
    list_filter = ["kind", ("budget__currency", admin.AllValuesFieldListFilter), "date"]
    search_fields = ["payee", "description", "budget__name", "created_by__email"]
    date_hierarchy = "date"
    ordering = ["-date", "-id"]
    fields = [
        "budget",
        "category",
        "kind",
        "amount_display",
        "date",
        "payee",
        "description",
        "notes",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description="Amount", ordering="amount_minor")
    def amount_display(self, tx: Transaction) -> str:
        return money(tx.amount_minor, tx.budget.currency)


class SplitShareInline(admin.TabularInline):
    model = SplitShare
    fields = ["user", "share_display", "weight"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="Share")
    def share_display(self, share: SplitShare) -> str:
        return money(share.amount_minor, share.currency)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Split)
class SplitAdmin(_ReadOnly):
    list_display = ["transaction", "household", "paid_by", "mode", "currency", "created_at"]
    list_select_related = ["transaction__budget", "household", "paid_by"]
    list_filter = ["mode", "currency"]
    search_fields = ["household__name", "paid_by__email", "transaction__payee"]
    fields = ["transaction", "household", "paid_by", "mode", "currency", "created_at"]
    readonly_fields = fields
    inlines = [SplitShareInline]


@admin.register(Settlement)
class SettlementAdmin(_ReadOnly):
    list_display = ["date", "kind", "household", "from_user", "to_user", "amount_display", "recorded_by"]
    list_select_related = ["household", "from_user", "to_user", "recorded_by"]
    list_filter = ["kind", "currency", "date"]
    search_fields = ["household__name", "from_user__email", "to_user__email", "note"]
    ordering = ["-date", "-id"]
    fields = [
        "household",
        "kind",
        "from_user",
        "to_user",
        "amount_display",
        "date",
        "note",
        "recorded_by",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="Amount", ordering="amount_minor")
    def amount_display(self, settlement: Settlement) -> str:
        return money(settlement.amount_minor, settlement.currency)
