"""A budget's aggregates: budgets/{id}/summary/ and budgets/{id}/report/monthly/. Served
here because they are sums of transactions; view on the budget is enough."""

import re
from datetime import date

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from budgets.models import Budget
from permissions.viewsets import TenantViewSet
from server.openapi import document_links, on_created
from transactions import selectors

document_links(
    {"budgets_create": {"201": on_created("budgets_summary_retrieve", "budgets_report_monthly_retrieve")}}
)

MAX_REPORT_MONTHS = 36
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

DATE_PARAM = OpenApiParameter("date", OpenApiTypes.DATE, description="A day in the period (default today)")
FROM_PARAM = OpenApiParameter("from", str, description="First month, YYYY-MM", pattern=r"^\d{4}-\d{2}$")
TO_PARAM = OpenApiParameter("to", str, description="Last month, YYYY-MM", pattern=r"^\d{4}-\d{2}$")


_MONEY = "A decimal string in the budget's currency"


class SummaryCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    allocated = serializers.CharField(allow_null=True, help_text=f"{_MONEY}; null without an allocation")
    spent = serializers.CharField(help_text=_MONEY)
    remaining = serializers.CharField(allow_null=True, help_text=f"{_MONEY}; null without an allocation")


class BudgetSummarySerializer(serializers.Serializer):
    """Totals of one budget period, overall and per category."""

    period_start = serializers.DateField()
    period_end = serializers.DateField()
    currency = serializers.CharField(help_text="ISO 4217 code")
    amount = serializers.CharField(help_text=f"{_MONEY}: the budget's amount for the period")
    spent = serializers.CharField(help_text=f"{_MONEY}: expenses dated in the period")
    income = serializers.CharField(help_text=f"{_MONEY}: income dated in the period")
    remaining = serializers.CharField(help_text=f"{_MONEY}: amount - spent, negative when overspent")
    percent_used = serializers.CharField(
        help_text='spent / amount in percent, two decimals ("0.00" for a zero amount)'
    )
    by_category = SummaryCategorySerializer(many=True, help_text="Every category of the budget, by name")
    uncategorised_spent = serializers.CharField(help_text=f"{_MONEY}: expenses without a category")


class ReportCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="null: expenses without a category")
    name = serializers.CharField(allow_null=True)
    expenses = serializers.CharField(help_text=_MONEY)


class ReportMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    income = serializers.CharField(help_text=_MONEY)
    expenses = serializers.CharField(help_text=_MONEY)
    net = serializers.CharField(help_text=f"{_MONEY}: income - expenses, may be negative")
    by_category = ReportCategorySerializer(many=True)


class MonthlyReportSerializer(serializers.Serializer):
    """Income, expenses and net of a budget, month by month."""

    currency = serializers.CharField(help_text="ISO 4217 code")
    # "from" is a Python keyword: the field is declared under another name and renamed.
    from_ = serializers.CharField(help_text="First month, YYYY-MM")
    to = serializers.CharField(help_text="Last month, YYYY-MM")
    months = ReportMonthSerializer(
        many=True, help_text="Every month from `from` to `to`, empty ones included"
    )

    def get_fields(self):
        fields = super().get_fields()
        return {("from" if name == "from_" else name): field for name, field in fields.items()}


class _DateQuery(serializers.Serializer):
    date = serializers.DateField(required=False)


def _month(value: str | None, name: str) -> date | None:
    if not value:
        return None  # left out, or sent empty
    match = _MONTH.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise ValidationError({name: ["Use a month like 2026-01 (YYYY-MM)."]}, code="invalid")
    return date(int(match.group(1)), int(match.group(2)), 1)


@extend_validation_errors(["invalid", "out_of_range"], field_name="date", actions=["summary"])
@extend_validation_errors(["invalid", "invalid_range"], field_name="from", actions=["report_monthly"])
@extend_validation_errors(["invalid", "range_too_long"], field_name="to", actions=["report_monthly"])
class BudgetReportViewSet(TenantViewSet):
    """Aggregates over one budget's transactions; view on the budget is enough."""

    model = Budget
    filterset_class = None
    pagination_class = None

    @extend_schema(
        summary="Summarise a budget period",
        parameters=[DATE_PARAM],
        responses={200: BudgetSummarySerializer},
        description="Totals for the budget period containing `date` (default today): the "
        "budget's amount, spent, income, remaining and percent used, overall and per category.",
        tags=["reports"],
    )
    @action(detail=True, methods=["get"], scope_action="view")
    def summary(self, request, pk=None):
        budget = self.get_object()
        query = _DateQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        on_date = query.validated_data.get("date") or timezone.localdate()
        try:
            budget.period_bounds(on_date)
        except (OverflowError, ValueError):
            # The period around a date at the edge of the calendar (0001-01-01, 9999-12-31)
            # would start or end outside it.
            raise ValidationError(
                {"date": ["This budget has no period around that date."]}, code="out_of_range"
            ) from None
        return Response(selectors.budget_summary(budget=budget, on_date=on_date))

    @extend_schema(
        summary="Report a budget month by month",
        parameters=[FROM_PARAM, TO_PARAM],
        responses={200: MonthlyReportSerializer},
        description="Per month from `from` to `to` (default the last 12 months): income, "
        f"expenses, net and expenses by category; at most {MAX_REPORT_MONTHS} months.",
        tags=["reports"],
    )
    @action(detail=True, methods=["get"], url_path="report/monthly", scope_action="view")
    def report_monthly(self, request, pk=None):
        budget = self.get_object()
        today = timezone.localdate()
        last = _month(request.query_params.get("to"), "to") or date(today.year, today.month, 1)
        first = _month(request.query_params.get("from"), "from")
        if first is None:
            back = max(last.year * 12 + last.month - 1 - 11, 12)  # not before 0001-01
            first = date(back // 12, back % 12 + 1, 1)
        if first > last:
            raise ValidationError(
                {"from": ["The first month must not be after the last."]}, code="invalid_range"
            )
        span = (last.year - first.year) * 12 + last.month - first.month + 1
        if span > MAX_REPORT_MONTHS:
            raise ValidationError(
                {"to": [f"A report covers at most {MAX_REPORT_MONTHS} months; this asks for {span}."]},
                code="range_too_long",
            )
        return Response(selectors.budget_monthly_report(budget=budget, first_month=first, last_month=last))
