"""Transactions of budgets the caller can see: view on the budget reads, edit writes. Many
rows at once: transactions/batch.py (bulk/) and transactions/files.py (export/, import/);
a budget's aggregates: transactions/reports.py."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from budgets.history import transaction_events, viewable_among
from budgets.sync import KnowledgeHeaderMixin
from history.api import (
    HISTORY_DOCS,
    EventPageSerializer,
    HistoryQuerySerializer,
    document_history_errors,
    history_page,
)
from permissions.viewsets import TenantViewSet
from server.conditional import ETagMixin
from server.filters import FilterBackend
from server.openapi import (
    CREATED_ID,
    ErrorResponse409Serializer,
    document_error_codes,
    document_links,
    on_created,
)
from transactions import services
from transactions.filters import TransactionFilter
from transactions.models import Transaction
from transactions.pagination import TransactionPagination
from transactions.rows import transaction_row
from transactions.schema_examples import TRANSACTION_EXAMPLE
from transactions.serializers import (
    TransactionInputSerializer,
    TransactionSerializer,
    budget_named_alone,
    validated_new_transaction,
)
from transactions.splits.serializers import document_split_errors

# A write racing another (a currency change, a move) answers 409; see services.py.
CONCURRENT_WRITE = OpenApiResponse(
    ErrorResponse409Serializer,
    description="Another request changed what this one depended on (code currency_changed or "
    "concurrent_change); nothing was written. Read again and retry.",
)

document_error_codes(409, "currency_changed")
document_links(
    {
        "budgets_create": {
            "201": {
                "TransactionsCreate": {
                    "operationId": "transactions_create",
                    "requestBody": {"budget": CREATED_ID},
                }
            }
        },
        "categories_create": {
            "201": {
                "TransactionsCreate": {
                    "operationId": "transactions_create",
                    "requestBody": {"budget": "$response.body#/budget", "category": CREATED_ID},
                }
            }
        },
        "transactions_create": {
            "201": on_created(
                "transactions_retrieve",
                "transactions_update",
                "transactions_partial_update",
                "transactions_destroy",
                "transactions_history_retrieve",
            )
        },
    }
)

# What validate() and the services raise beyond each field's own codes.
_WRITES = ["create", "update", "partial_update"]


@extend_schema_view(
    list=extend_schema(
        summary="List transactions",
        description="Transactions of every budget you can see, newest date first. "
        "Filter by budget, category, kind, dates (inclusive), amount bounds, who recorded them "
        "and text; sort with `ordering`. Paginated by `limit`/`offset`, with the exact `count`; "
        "or, to walk every row, by `cursor`: `cursor=start` for the first page, then follow "
        "`next` until it is null. A cursor page has no `count` and costs the same however deep "
        "the walk goes; rows added meanwhile never make it repeat or skip another row.",
    ),
    retrieve=extend_schema(
        summary="Get a transaction",
        description="One transaction of a budget you can see. One you cannot, existing or not, "
        "is the same 404.",
    ),
    destroy=extend_schema(
        summary="Delete a transaction",
        description="Needs edit on its budget.",
        responses={204: None, 409: CONCURRENT_WRITE},
    ),
)
@extend_validation_errors(["budget_required"], field_name="last_knowledge_of_server", actions=["list"])
@extend_validation_errors(["category_budget_mismatch"], field_name="category", actions=_WRITES)
@extend_validation_errors(["required"], field_name="amount", actions=["update", "partial_update"])
@document_split_errors(actions=_WRITES)
@document_history_errors(actions=["history"])
class TransactionViewSet(
    KnowledgeHeaderMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Transactions of budgets I can see. View on the budget reads; edit writes."""

    model = Transaction
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilter
    filter_backends = (FilterBackend,)
    pagination_class = TransactionPagination
    read_row = staticmethod(transaction_row)
    knowledge_actions = ("create", "update", "partial_update", "destroy")

    def with_related(self, queryset):
        if self.action == "list":
            return queryset  # the paginator reads the page as PageRows (transactions/rows.py)
        return queryset.select_related("budget", "created_by", "split").prefetch_related("split__shares")

    def list(self, request):
        # The filters are validated before anything is read, and the queryset built and
        # filtered only if the paginator reads through it (not its compiled statements).
        page = self.paginate_queryset(FilterBackend().filter_later(request, self))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        # Plain values, read through visible_to by SQL compiled once (transactions/rows.py).
        return Response(self.get_serializer(self.get_row()).data)

    def _input(self, data, **kwargs):
        serializer = TransactionInputSerializer(data=data, context={"request": self.request}, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Create a transaction",
        description="Records one income or expense in a budget you can edit. `amount` is a "
        'decimal string with at most the currency\'s minor units ("12.30" EUR, "1500" JPY); '
        "`category`, optional, must belong to the same budget. You are its `created_by`.",
        request=TransactionInputSerializer,
        responses={201: TransactionSerializer, 409: CONCURRENT_WRITE},
        examples=[OpenApiExample("An expense", value=TRANSACTION_EXAMPLE, request_only=True)],
    )
    def create(self, request):
        body, context = request.data, {"request": request}
        budget_id = budget_named_alone(body)
        if budget_id is None:
            data = validated_new_transaction(body, context)
            tx = services.transaction_create(actor=request.user, **data)
        else:  # the budget is read by its lock (services.transaction_create_in)
            tx = services.transaction_create_in(
                budget_id,
                actor=request.user,
                validated=lambda rows: validated_new_transaction(body, context, budgets=rows),
            )
        self.wrote_row(tx)
        return Response(self.get_serializer(tx).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a transaction",
        description="Takes the whole transaction, as POST does; needs edit on the budget it is in "
        "and, when it moves, on the budget it moves to.",
        request=TransactionInputSerializer,
        responses={200: TransactionSerializer, 409: CONCURRENT_WRITE},
        examples=[OpenApiExample("An expense", value=TRANSACTION_EXAMPLE, request_only=True)],
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Update a transaction",
        description="Changes only the fields sent; needs edit on its budget. Two editors changing "
        "different fields at once both land.",
        request=TransactionInputSerializer(partial=True),
        responses={200: TransactionSerializer, 409: CONCURRENT_WRITE},
        examples=[OpenApiExample("A note", value={"notes": "split with Sam"}, request_only=True)],
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial):
        tx = self.get_object()
        precondition = self.precondition_for(tx)
        data = self._input(request.data, instance=tx, partial=partial)
        moved_from = tx.budget_id
        tx = services.transaction_update(tx=tx, actor=request.user, precondition=precondition, **data)
        self.wrote(moved_from, tx.budget_id)
        return Response(self.get_serializer(tx).data)

    def perform_destroy(self, instance):
        services.transaction_delete(
            tx=instance, actor=self.request.user, precondition=self.precondition_for(instance)
        )
        self.wrote(instance.budget_id)

    @extend_schema(
        summary="Get a transaction's history",
        description="Every change to the transaction, its split and its members' parts, to whoever "
        "can view its budget now. A deleted transaction's history is in its budget's history. "
        + HISTORY_DOCS,
        parameters=[HistoryQuerySerializer],
        responses={200: EventPageSerializer},
    )
    @action(detail=True, methods=["get"], scope_action="view", pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        return history_page(
            request,
            transaction_events(self.get_object(), request.user),
            viewable=viewable_among(request.user),
        )
