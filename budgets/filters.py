import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from budgets.models import Budget, BudgetGroupObjectPermission, Category
from households.models import Household
from permissions.fields import ScopedModelChoiceFilter
from server.filters import FilterSet, StableOrderingFilter


class BudgetFilter(FilterSet):
    # Only "true" or "false": anything else is a 400, not silently ignored.
    owned = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        method="filter_owned",
        label="true: budgets I own; false: shared with me",
    )
    shared_with_household = ScopedModelChoiceFilter(
        model=Household, method="filter_shared_with_household", label="Budgets shared with this household"
    )
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100)
    ordering = StableOrderingFilter(
        fields=(("name", "name"), ("created_at", "created_at"), ("amount_minor", "amount")),
    )

    class Meta:
        model = Budget
        fields = []

    @extend_schema_field({"type": "string", "enum": ["true", "false"]})
    def filter_owned(self, queryset, name, value):
        mine = Q(owner=self.request.user)
        return queryset.filter(mine) if value else queryset.exclude(mine)

    @extend_schema_field(OpenApiTypes.INT)  # a household id; the schema can't infer it from a method
    def filter_shared_with_household(self, queryset, name, household):
        shared = BudgetGroupObjectPermission.objects.filter(group_id=household.group_id).values(
            "content_object_id"
        )
        return queryset.filter(pk__in=shared)


class CategoryFilter(FilterSet):
    budget = ScopedModelChoiceFilter(model=Budget)

    class Meta:
        model = Category
        fields = []
