"""bulk/: up to MAX_BULK_ITEMS transactions in one request, all created or none."""

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from budgets.models import Budget, Category
from budgets.sync import KnowledgeHeaderMixin
from history.context import acting
from permissions.fields import preload_scoped
from permissions.scoping import dangerously_unscoped
from permissions.viewsets import TenantViewSet
from transactions import services
from transactions.models import Transaction
from transactions.schema_examples import TRANSACTION_EXAMPLE
from transactions.serializers import TransactionInputSerializer, TransactionSerializer, validated_items_fast
from transactions.splits.serializers import document_split_errors
from transactions.views import CONCURRENT_WRITE

MAX_BULK_ITEMS = 1000


@extend_validation_errors(["not_a_list", "empty", "too_many_items"], field_name=None, actions=["bulk"])
# An item that is not an object: attr "<index>" (null), or "<index>.non_field_errors".
@extend_validation_errors(["null"], field_name="INDEX", actions=["bulk"])
@extend_validation_errors(["invalid"], field_name="INDEX.non_field_errors", actions=["bulk"])
@extend_validation_errors(["category_budget_mismatch"], field_name="INDEX.category", actions=["bulk"])
@document_split_errors(actions=["bulk"], prefix="INDEX.")
class TransactionBatchViewSet(KnowledgeHeaderMixin, TenantViewSet):
    """Many transactions in one request (registered under transactions/)."""

    model = Transaction
    knowledge_actions = ("bulk",)
    serializer_class = TransactionSerializer  # what OPTIONS describes, as on transactions/
    filterset_class = None
    scope_actions = {"bulk": "change"}

    @extend_schema(
        request=TransactionInputSerializer(many=True),
        responses={201: TransactionSerializer(many=True), 409: CONCURRENT_WRITE},
        summary="Create transactions in bulk",
        description="The body is a bare JSON list of transactions, each as POST transactions/ takes "
        f"it, up to {MAX_BULK_ITEMS}, in budgets you can edit. All are created (201, in the order "
        'sent) or none: a 400 names each bad item by its index, attr "<index>.<field>", <index> '
        "counting the list's items from 0 (e.g. \"1.amount\" is the second item's amount).",
        # drf-spectacular wraps a list body's example in the list itself.
        examples=[OpenApiExample("One transaction", value=TRANSACTION_EXAMPLE, request_only=True)],
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
        bodies = [item for item in items if isinstance(item, dict)]
        context = {
            "request": request,
            "scoped_rows": {
                Budget: preload_scoped(Budget, request.user, [item.get("budget") for item in bodies]),
                Category: preload_scoped(
                    Category,
                    request.user,
                    [item.get("category") for item in bodies],
                    select_related=["budget"],
                ),
            },
        }
        validated = validated_items_fast(items, context["scoped_rows"])
        if validated is None:
            serializer = TransactionInputSerializer(data=items, many=True, context=context)
            if not serializer.is_valid():
                raise ValidationError(
                    {str(i): errors for i, errors in enumerate(serializer.errors) if errors}
                )
            validated = serializer.validated_data
        splits = any(item.get("split") for item in validated)
        with acting(source="bulk"), transaction.atomic():  # the answer is read under the write's locks
            created = services.transactions_bulk_create(actor=request.user, items=validated)
            self.wrote(*{tx.budget_id for tx in created})
            if splits:
                created = (
                    dangerously_unscoped(Transaction, reason="the rows this request just created")
                    .filter(pk__in=[t.pk for t in created])
                    .select_related("budget", "created_by", "split")
                    .prefetch_related("split__shares")
                    .order_by("id")
                )
            # Without splits, the rows as written: the service gave each its id and version
            # from the database, its timestamps, and its budget's currency and author.
            return Response(TransactionSerializer(created, many=True).data, status=status.HTTP_201_CREATED)
