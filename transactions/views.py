import re
from datetime import date

from django.db import transaction
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from budgets.models import Budget, Category
from permissions.fields import preload_scoped
from permissions.scoping import require
from permissions.viewsets import TenantViewSet
from server.exceptions import PayloadTooLarge
from server.openapi import ErrorResponse409Serializer, ErrorResponse503Serializer
from transactions import csv_io, selectors, services
from transactions.filters import TransactionFilter
from transactions.import_slots import import_slot
from transactions.models import Transaction
from transactions.pagination import TransactionPagination
from transactions.serializers import (
    ImportRequestSerializer,
    ImportResultSerializer,
    TransactionInputSerializer,
    TransactionSerializer,
)

MAX_BULK_ITEMS = 1000
MAX_REPORT_MONTHS = 36
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class _JSONErrorsNegotiation(BaseContentNegotiation):
    """The CSV export streams its own response; anything else it answers (errors) is JSON,
    whatever the client's Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# A write racing another (a currency change, a move) answers 409; see services.py.
CONCURRENT_WRITE = OpenApiResponse(
    ErrorResponse409Serializer,
    description="Another request changed what this one depended on (code currency_changed or "
    "concurrent_change); nothing was written. Read again and retry.",
)

# What validate() and the views raise beyond each field's own codes.
_WRITES = ["create", "update", "partial_update"]


@extend_validation_errors(["category_budget_mismatch"], field_name="category", actions=_WRITES)
@extend_validation_errors(["required"], field_name="amount", actions=["update", "partial_update"])
@extend_validation_errors(["not_a_list", "empty", "too_many_items"], field_name=None, actions=["bulk"])
@extend_validation_errors(["category_budget_mismatch"], field_name="INDEX.category", actions=["bulk"])
# The CSV import's row errors: attr "<line>.<column>", or "<line>" for a row of the wrong width.
@extend_validation_errors(["invalid_row"], field_name="INDEX", actions=["import_csv"])
@extend_validation_errors(["required", "null", "invalid"], field_name="INDEX.date", actions=["import_csv"])
@extend_validation_errors(
    ["required", "null", "invalid_choice"], field_name="INDEX.kind", actions=["import_csv"]
)
@extend_validation_errors(
    ["blank", "invalid", "max_length", "min_value", "max_decimal_places", "max_value"],
    field_name="INDEX.amount",
    actions=["import_csv"],
)
@extend_validation_errors(
    ["null", "invalid", "max_length", "unknown_category"], field_name="INDEX.category", actions=["import_csv"]
)
@extend_validation_errors(["null", "invalid", "max_length"], field_name="INDEX.payee", actions=["import_csv"])
@extend_validation_errors(
    ["null", "invalid", "max_length"], field_name="INDEX.description", actions=["import_csv"]
)
@extend_validation_errors(["null", "invalid", "max_length"], field_name="INDEX.notes", actions=["import_csv"])
class TransactionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet
):
    """Transactions of budgets I can see. View on the budget reads; edit writes."""

    model = Transaction
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilter
    pagination_class = TransactionPagination
    scope_actions = {"bulk": "change", "import_csv": "change", "export": "view"}
    parse_error_codes: list[str] | None = None  # set per @action; documented by server.openapi

    def with_related(self, queryset):
        if self.action == "list":
            return queryset  # the paginator adds the page's two joined columns
        return queryset.select_related("budget", "created_by")

    def _input(self, data, **kwargs):
        serializer = TransactionInputSerializer(data=data, context={"request": self.request}, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        request=TransactionInputSerializer, responses={201: TransactionSerializer, 409: CONCURRENT_WRITE}
    )
    def create(self, request):
        data = self._input(request.data)
        tx = services.transaction_create(actor=request.user, **data)
        return Response(self.get_serializer(tx).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TransactionInputSerializer, responses={200: TransactionSerializer, 409: CONCURRENT_WRITE}
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        request=TransactionInputSerializer(partial=True),
        responses={200: TransactionSerializer, 409: CONCURRENT_WRITE},
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial):
        tx = self.get_object()
        data = self._input(request.data, instance=tx, partial=partial)
        tx = services.transaction_update(tx=tx, actor=request.user, **data)
        return Response(self.get_serializer(tx).data)

    @extend_schema(responses={204: None, 409: CONCURRENT_WRITE})
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.transaction_delete(tx=instance, actor=self.request.user)

    @extend_schema(
        request=TransactionInputSerializer(many=True),
        responses={201: TransactionSerializer(many=True), 409: CONCURRENT_WRITE},
        description=f"Creates up to {MAX_BULK_ITEMS} transactions: all of them, or none (400 with errors "
        'per item index, attr "<index>.<field>").',
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def bulk(self, request):
        items = request.data
        if not isinstance(items, list):
            raise ValidationError("Send a JSON list of transactions.", code="not_a_list")
        if not items:
            raise ValidationError("Send at least one transaction.", code="empty")
        if len(items) > MAX_BULK_ITEMS:
            raise ValidationError(
                f"At most {MAX_BULK_ITEMS} transactions per request; this one has {len(items)}.",
                code="too_many_items",
            )
        ids = [item.get(key) for item in items if isinstance(item, dict) for key in ("budget", "category")]
        context = {
            "request": request,
            "scoped_rows": {
                Budget: preload_scoped(Budget, request.user, ids),
                Category: preload_scoped(Category, request.user, ids, select_related=["budget"]),
            },
        }
        serializer = TransactionInputSerializer(data=items, many=True, context=context)
        if not serializer.is_valid():
            raise ValidationError({str(i): errors for i, errors in enumerate(serializer.errors) if errors})
        with transaction.atomic():  # the answer is read under the write's locks
            created = services.transactions_bulk_create(actor=request.user, items=serializer.validated_data)
            rows = Transaction.objects.filter(pk__in=[t.pk for t in created]).select_related(
                "budget", "created_by"
            )
            return Response(
                TransactionSerializer(rows.order_by("id"), many=True).data, status=status.HTTP_201_CREATED
            )

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, one header row")},
        description="The list's filters and scoping, as a streamed CSV attachment.",
        filters=True,  # not a list to drf-spectacular, so its filters are named here
    )
    @action(
        detail=False, methods=["get"], pagination_class=None, content_negotiation_class=_JSONErrorsNegotiation
    )
    def export(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        rows = queryset.order_by(*(queryset.query.order_by or ("-date", "-id"))).values_list(
            "id",
            "date",
            "budget_id",
            "budget__name",
            "budget__currency",
            "kind",
            "amount_minor",
            "category__name",
            "payee",
            "description",
            "notes",
            "created_by__email",
        )
        response = StreamingHttpResponse(
            csv_io.export_lines(rows.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="transactions-{stamp}.csv"'
        return response

    @extend_schema(
        request=ImportRequestSerializer,
        responses={
            200: ImportResultSerializer,
            201: ImportResultSerializer,
            409: CONCURRENT_WRITE,
            503: OpenApiResponse(
                ErrorResponse503Serializer,
                description="The import's database work took longer than the deployment allows "
                "(IMPORT_TIMEOUT_SECONDS, code import_timeout); nothing was recorded.",
            ),
        },
        description=(
            "CSV with the columns date, amount, kind, category, payee, description, notes. "
            "All rows or none; rows identical to an existing transaction (date, amount, kind, payee, "
            'description) or repeated in the file are skipped and reported. Errors name "<line>.<field>".'
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser],
        parse_error_codes=["parse_error", "too_many_fields", "not_csv", "invalid_encoding", "invalid_header"],
        filterset_class=None,
        pagination_class=None,
    )
    def import_csv(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > csv_io.MAX_IMPORT_BYTES + 64 * 1024:
            raise PayloadTooLarge("The file is larger than 5 MB.", code="file_too_large")
        with import_slot():
            params = ImportRequestSerializer(data=request.data, context={"request": request})
            params.is_valid(raise_exception=True)
            budget = params.validated_data["budget"]
            require(request.user, budget, "change", services.cannot_edit(budget))
            text = csv_io.read_upload(params.validated_data["file"])
            rows, errors = csv_io.parse_rows(text, currency=budget.currency)
            result = services.transactions_import(
                actor=request.user,
                budget=budget,
                rows=rows,
                errors=errors,
                create_categories=params.validated_data["create_categories"],
                dry_run=params.validated_data["dry_run"],
            )
        return Response(
            ImportResultSerializer(result).data,
            status=status.HTTP_200_OK if result["dry_run"] else status.HTTP_201_CREATED,
        )


DATE_PARAM = OpenApiParameter("date", OpenApiTypes.DATE, description="A day in the period (default today)")
FROM_PARAM = OpenApiParameter("from", str, description="First month, YYYY-MM", pattern=r"^\d{4}-\d{2}$")
TO_PARAM = OpenApiParameter("to", str, description="Last month, YYYY-MM", pattern=r"^\d{4}-\d{2}$")


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
        parameters=[DATE_PARAM],
        responses={200: OpenApiTypes.OBJECT},
        description="Totals for the budget period containing `date`.",
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
        parameters=[FROM_PARAM, TO_PARAM],
        responses={200: OpenApiTypes.OBJECT},
        description=f"Per month: income, expenses, net, expenses by category; at most {MAX_REPORT_MONTHS}.",
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
