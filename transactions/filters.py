import math
from decimal import Decimal

import django_filters
from django.db.models import Q

from accounts.models import User
from budgets.currencies import minor_units
from budgets.models import Budget, Category
from permissions.fields import ScopedModelChoiceFilter
from server.filters import StableOrderingFilter
from transactions.models import Kind, Transaction

AMOUNT = {"max_digits": 20, "decimal_places": 4}


class TransactionFilter(django_filters.FilterSet):
    budget = ScopedModelChoiceFilter(model=Budget)
    category = ScopedModelChoiceFilter(model=Category)
    created_by = ScopedModelChoiceFilter(model=User, label="Recorded by (yourself or a housemate)")
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    date_after = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label="On or after (inclusive)"
    )
    date_before = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label="On or before (inclusive)"
    )
    amount_min = django_filters.NumberFilter(
        method="filter_amount", min_value=0, label="Amount at least", **AMOUNT
    )
    amount_max = django_filters.NumberFilter(
        method="filter_amount", min_value=0, label="Amount at most", **AMOUNT
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, label="Payee, description or notes"
    )
    ordering = StableOrderingFilter(
        fields=(("date", "date"), ("amount_minor", "amount"), ("created_at", "created_at")),
    )

    class Meta:
        model = Transaction
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(payee__icontains=value) | Q(description__icontains=value) | Q(notes__icontains=value)
        )

    def filter_amount(self, queryset, name, value: Decimal):
        """Amounts are stored in each budget's minor units, so the bound is converted
        per currency exponent (one small query for the visible budgets' currencies)."""
        at_least = name == "amount_min"
        by_exponent: dict[int, list[int]] = {}
        visible = Budget.objects.visible_to(self.request.user).order_by().values_list("pk", "currency")
        for pk, currency in visible:
            by_exponent.setdefault(minor_units(currency), []).append(pk)
        condition = Q(pk__in=[])
        for exponent, pks in by_exponent.items():
            scaled = value.scaleb(exponent)
            bound = math.ceil(scaled) if at_least else math.floor(scaled)
            lookup = "amount_minor__gte" if at_least else "amount_minor__lte"
            condition |= Q(budget_id__in=pks, **{lookup: bound})
        return queryset.filter(condition)
