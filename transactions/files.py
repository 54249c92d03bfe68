"""export/ and import/: the list's rows as a CSV file, and a CSV file into one budget."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from budgets.sync import KnowledgeHeaderMixin
from history.context import acting
from permissions.scoping import require
from permissions.viewsets import TenantViewSet
from server.exceptions import PayloadTooLarge
from server.openapi import ErrorResponse503Serializer, document_error_codes
from transactions import csv_io, imports, services
from transactions.filters import TransactionFilter
from transactions.import_slots import import_slot
from transactions.models import Transaction
from transactions.schema_examples import IMPORT_CSV_EXAMPLE
from transactions.serializers import ImportRequestSerializer, ImportResultSerializer, TransactionSerializer
from transactions.views import CONCURRENT_WRITE

document_error_codes(413, "file_too_large", "too_many_rows")
document_error_codes(503, "import_timeout")


class _JSONErrorsNegotiation(BaseContentNegotiation):
    """The CSV export streams its own response; anything else it answers (errors) is JSON,
    whatever the client's Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# The CSV import's row errors: attr "<line>.<column>", or "<line>" for a row of the wrong width;
# <line> is the file line the row starts on (the header is line 1). A dry run answers the same.
@extend_validation_errors(["invalid_row"], field_name="INDEX", actions=["import_csv"])
@extend_validation_errors(["currency_mismatch"], field_name="INDEX.currency", actions=["import_csv"])
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
@extend_validation_errors(
    ["required", "not_a_member", "cannot_view_budget"], field_name="INDEX.paid_by", actions=["import_csv"]
)
@extend_validation_errors(
    ["invalid", "duplicate_member", "not_a_member", "cannot_view_budget"],
    field_name="INDEX.split_with",
    actions=["import_csv"],
)
@extend_validation_errors(["required"], field_name="household", actions=["import_csv"])
@extend_validation_errors(["budget_required"], field_name="last_knowledge_of_server", actions=["export"])
class TransactionFileViewSet(KnowledgeHeaderMixin, TenantViewSet):
    """Transactions as CSV files (registered under transactions/)."""

    model = Transaction
    knowledge_actions = ("import_csv",)
    serializer_class = TransactionSerializer  # what OPTIONS describes, as on transactions/
    filterset_class = TransactionFilter
    scope_actions = {"import_csv": "change", "export": "view"}
    parse_error_codes: list[str] | None = None  # set per @action; documented by server.openapi
    streamed_actions = ("export",)  # no ETag, no 304 (server.openapi)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, one header row")},
        summary="Export transactions as CSV",
        description="The list's filters, ordering and scoping, as a streamed CSV attachment with "
        "one header row (cells that a spreadsheet would read as a formula are neutralised).",
        filters=True,  # not a list to drf-spectacular, so its filters are named here
    )
    @action(
        detail=False, methods=["get"], pagination_class=None, content_negotiation_class=_JSONErrorsNegotiation
    )
    def export(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        ordered = queryset.order_by(*(queryset.query.order_by or ("-date", "-id")))
        response = StreamingHttpResponse(csv_io.export_body(ordered), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="transactions-{stamp}.csv"'
        return response

    @extend_schema(
        request=ImportRequestSerializer,
        responses={
            200: OpenApiResponse(ImportResultSerializer, description="A dry run: what the real run records"),
            201: ImportResultSerializer,
            409: CONCURRENT_WRITE,
            503: OpenApiResponse(
                ErrorResponse503Serializer,
                description="The import's database work took longer than the deployment allows "
                "(IMPORT_TIMEOUT_SECONDS, code import_timeout); nothing was recorded.",
            ),
        },
        summary="Import transactions from CSV",
        description=(
            "Multipart: `file` (CSV, UTF-8, at most 5 MB and 50,000 rows), `budget` (one you can "
            "edit), `dry_run` (check and report, record nothing), `create_categories` (create the "
            "categories the file names that the budget lacks, instead of refusing them). The first "
            "line names the columns date, amount, kind, category, payee, description, notes, in any "
            "order:\n\n```\n" + IMPORT_CSV_EXAMPLE + "```\n\n"
            "A file from export/ imports as it is (its id, budget_id, budget and created_by columns "
            "are ignored; a currency other than the budget's is an error). Optional columns split a "
            "row among the members of `household`: `paid_by` (an email) and `split_with` (emails "
            'separated by ";", each optionally with a weight: "sam@example.com:2"); paid_by alone '
            "splits equally among every member. "
            "All rows or none; rows identical to an existing transaction (date, amount, kind, payee, "
            'description) or repeated in the file are skipped and reported. Errors name "<line>.<field>", '
            "<line> being the file line the row starts on (the header is line 1). A dry run is the same "
            "run rolled back: the same 400 and errors, or 200 with the counts the real run's 201 would give."
        ),
        examples=[
            OpenApiExample(
                "Check a file first",
                value={"file": IMPORT_CSV_EXAMPLE, "budget": 12, "dry_run": True, "create_categories": True},
                request_only=True,
                media_type="multipart/form-data",
            )
        ],
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
        with import_slot(), imports.cyclic_gc_paused():
            params = ImportRequestSerializer(data=request.data, context={"request": request})
            params.is_valid(raise_exception=True)
            budget = params.validated_data["budget"]
            require(request.user, budget, "change", services.cannot_edit(budget))
            text = csv_io.read_upload(params.validated_data["file"])
            records = csv_io.read_records(text)  # the header and the row limit, before any lock
            with acting(source="import"):
                result = imports.transactions_import(
                    actor=request.user,
                    budget=budget,
                    records=records,
                    create_categories=params.validated_data["create_categories"],
                    dry_run=params.validated_data["dry_run"],
                    household=params.validated_data.get("household"),
                )
            if not result["dry_run"]:
                self.wrote(budget.pk)
        return Response(
            ImportResultSerializer(result).data,
            status=status.HTTP_200_OK if result["dry_run"] else status.HTTP_201_CREATED,
        )
