"""Budgets and categories in the admin, and the object-permissions page where site admins
grant access.

The admin is for looking and for granting. Budgets and categories are read-only here, as
the README says: nothing is added, changed or deleted on these pages. Their rules (currency
lock, dates, unique names, who may delete) live in the API's services.

BudgetAdmin is guardian's GuardedModelAdmin. Its object-permissions pages are open to
staff holding budgets.manage_grants (and to no one else, whatever their model permissions).
They offer only the two rights a share is made of, and they save through the grant services,
exactly like the staff grants API, so a grant made on either shows up on the other. Change
includes view ("edit"), and the rows record the admin who made them.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from guardian.admin import (
    AdminGroupObjectPermissionsForm,
    AdminUserObjectPermissionsForm,
    GroupManage,
    GuardedModelAdmin,
    UserManage,
)

from accounts.models import User, normalise_email
from budgets import services
from budgets.grants.permissions import MANAGE_GRANTS
from budgets.models import Budget, Category
from budgets.shares import CODENAMES_FOR_LEVEL, SHARE_CODENAMES, level_of
from households.models import Household
from money.admin import money

# The object-permissions forms -----------------------------------------------------------


class _GrantFormMixin:
    """Offers only the two rights a share is made of, as checkboxes, and saves through
    the grant services. ``actor`` is set per request (see BudgetAdmin)."""

    actor: User | None = None

    def get_obj_perms_field_choices(self):
        choices = dict(super().get_obj_perms_field_choices())
        return [(code, choices[code]) for code in SHARE_CODENAMES]

    def get_obj_perms_field_widget(self):
        return forms.CheckboxSelectMultiple

    def get_obj_perms_field(self):
        field = super().get_obj_perms_field()
        field.help_text = "Change includes view. Clear both to revoke."
        return field

    def _current_codenames(self) -> set[str]:
        return set(self.get_obj_perms_field_initial()) & set(SHARE_CODENAMES)

    def save_obj_perms(self) -> None:
        level = level_of(self.cleaned_data[self.get_obj_perms_field_name()])
        wanted = set(CODENAMES_FOR_LEVEL[level]) if level else set()
        current = self._current_codenames()
        if wanted == current:
            return  # unchanged: an owner's share stays the owner's
        if level is None:
            self.revoke()
        else:
            self.grant(level)


class BudgetUserGrantForm(_GrantFormMixin, AdminUserObjectPermissionsForm):
    def clean(self):
        cleaned = super().clean()
        if self.user.pk == self.obj.owner_id and cleaned.get(self.get_obj_perms_field_name()):
            raise forms.ValidationError("This user owns the budget and already holds every right on it.")
        return cleaned

    def grant(self, level: str) -> None:
        services.grant_to_user(budget=self.obj, grantee=self.user, level=level, actor=self.actor)

    def revoke(self) -> None:
        services.share_revoke_user(budget=self.obj, grantee_id=self.user.pk)


class BudgetHouseholdGrantForm(_GrantFormMixin, AdminGroupObjectPermissionsForm):
    def grant(self, level: str) -> None:
        services.grant_to_household(
            budget=self.obj, household=self.group.household, level=level, actor=self.actor
        )

    def revoke(self) -> None:
        services.share_revoke_household(budget=self.obj, household_id=self.group.household.pk)


class GranteeUserForm(UserManage):
    """Find the grantee by email, however it was typed."""

    user = forms.CharField(
        label="Email",
        max_length=254,
        error_messages={"does_not_exist": "No user has this email."},
        help_text="The email address of the person to grant access to.",
    )

    def clean_user(self):
        user = User.objects.filter(email=normalise_email(self.cleaned_data["user"])).first()
        if user is None:
            raise forms.ValidationError(self.fields["user"].error_messages["does_not_exist"])
        return user


class GranteeHouseholdForm(GroupManage):
    """Households, not arbitrary auth groups: by id or by group name ("household:<id>")."""

    group = forms.CharField(
        label="Household",
        max_length=80,
        error_messages={"does_not_exist": "No household has this id."},
        help_text='The household\'s id, or its group name "household:<id>".',
    )

    def clean_group(self):
        value = self.cleaned_data["group"].strip().removeprefix("household:")
        household = None
        if value.isdigit() and len(value) < 19:
            household = Household.objects.select_related("group").filter(pk=int(value)).first()
        if household is None:
            raise forms.ValidationError(self.fields["group"].error_messages["does_not_exist"])
        return household.group


# Admins -----------------------------------------------------------------------------------


@admin.register(Budget)
class BudgetAdmin(GuardedModelAdmin):
    list_display = ["name", "owner", "amount_display", "period", "start_date", "end_date", "created_at"]
    list_select_related = ["owner"]
    list_filter = ["period", ("currency", admin.AllValuesFieldListFilter), "created_at"]
    search_fields = ["name", "owner__email"]
    ordering = ["-created_at", "-id"]
    fields = [
        "name",
        "owner",
        "amount_display",
        "period",
        "start_date",
        "end_date",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["amount_display", "created_at", "updated_at"]
    # guardian's pages, naming a household's grant by the household ("Home (household 3)")
    # rather than by its auth group ("household:3").
    obj_perms_manage_template = "admin/budgets/budget/obj_perms_manage.html"
    obj_perms_manage_group_template = "admin/budgets/budget/obj_perms_manage_household.html"

    @admin.display(description="Amount", ordering="amount_minor")
    def amount_display(self, budget: Budget) -> str:
        return money(budget.amount_minor, budget.currency)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")

    # Read-only, except for the grants pages.

    def has_add_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.has_perm(MANAGE_GRANTS)

    def has_change_permission(self, request, obj=None):
        # guardian asks has_change_permission(request, None) before each grants page;
        # _grants_page has already required manage_grants by then.
        return obj is None and getattr(request, "managing_budget_grants", False)

    def has_delete_permission(self, request, obj=None):
        return False  # no delete view, no "Delete" link or bulk action; the API deletes

    def render_change_form(self, request, context, *args, **kwargs):
        response = super().render_change_form(request, context, *args, **kwargs)
        if not request.user.has_perm(MANAGE_GRANTS):
            response.template_name = "admin/change_form.html"  # no "Object permissions" link
        return response

    # The object-permissions pages.

    @staticmethod
    def _grants_page(request, *ids) -> None:
        if not request.user.has_perm(MANAGE_GRANTS):
            raise PermissionDenied
        if not all(str(value).isdigit() and len(str(value)) < 19 for value in ids):
            raise Http404  # guardian would pass "abc" to an integer lookup
        request.managing_budget_grants = True

    def obj_perms_manage_view(self, request, object_pk):
        self._grants_page(request, object_pk)
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        self._grants_page(request, object_pk, user_id)
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        self._grants_page(request, object_pk, group_id)
        if not Household.objects.filter(group_id=group_id).exists():
            raise Http404  # grants go to households, never to other auth groups
        return super().obj_perms_manage_group_view(request, object_pk, group_id)

    def get_obj_perms_base_context(self, request, obj):
        context = super().get_obj_perms_base_context(request, obj)
        perms = {p.codename: p for p in context["model_perms"]}
        context["model_perms"] = [perms[codename] for codename in SHARE_CODENAMES]
        context["has_change_permission"] = self.has_view_permission(request, obj)  # breadcrumb links
        return context

    def get_obj_perms_user_select_form(self, request):
        return GranteeUserForm

    def get_obj_perms_group_select_form(self, request):
        return GranteeHouseholdForm

    def get_obj_perms_manage_user_form(self, request):
        return type("BudgetUserGrantForm", (BudgetUserGrantForm,), {"actor": request.user})

    def get_obj_perms_manage_group_form(self, request):
        return type("BudgetHouseholdGrantForm", (BudgetHouseholdGrantForm,), {"actor": request.user})


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "budget", "allocated_display", "created_at"]
    list_select_related = ["budget"]
    list_filter = [("budget__currency", admin.AllValuesFieldListFilter), "created_at"]
    search_fields = ["name", "budget__name"]
    fields = ["name", "budget", "allocated_display", "created_at"]
    readonly_fields = fields

    @admin.display(description="Allocated", ordering="allocated_minor")
    def allocated_display(self, category: Category) -> str | None:
        return money(category.allocated_minor, category.budget.currency)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
