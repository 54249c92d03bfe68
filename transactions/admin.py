"""Transactions in the admin: read-only (their rules live in the API's services: nothing is
added, changed or deleted here), amounts shown exactly in their budget's currency."""

from django.contrib import admin

from money.admin import money
from transactions.models import Transaction


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
