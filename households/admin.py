"""Households and invitations in the admin.

Membership changes keep the household's auth group and the budget shares in step, so
they happen only through households/services.py (the API): members are shown here,
read-only. Renaming and deleting a household go through the same services.
"""

from django.contrib import admin
from django.db.models import Count

from households import services
from households.models import Household, Invitation, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "joined_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["joined_at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_at", "updated_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "memberships__user__email"]
    fields = ["name", "group", "created_at", "updated_at"]
    readonly_fields = ["group", "created_at", "updated_at"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, household: Household) -> int:
        return household.member_count

    def has_add_permission(self, request):
        return False  # a household starts with its owner: POST /api/v1/households/

    def save_model(self, request, obj, form, change):
        services.household_update(household=obj, name=obj.name)

    def delete_model(self, request, obj):
        services.household_delete(household=obj)

    def delete_queryset(self, request, queryset):
        for household in queryset:
            services.household_delete(household=household)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "household", "role", "status", "invited_by", "created_at", "expires_at"]
    list_select_related = ["household", "invited_by"]
    list_filter = ["status", "role", "created_at"]
    search_fields = ["email", "household__name", "invited_by__email"]
    fields = [
        "email",
        "household",
        "role",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
        "responded_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # invitations are made, answered and revoked through the API

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
