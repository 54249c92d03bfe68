"""budgets/{id}/changes/: delta sync of one budget (README, "History and sync"; the
knowledge and tombstones are kept by the database, budgets/sync.py). Served here, above
budgets, because it reads the budget's transactions.

A client keeps, per budget, the ``server_knowledge`` of its last sync and sends it back as
``last_knowledge_of_server``: it gets every category and transaction written since, and
``{"id": ..., "deleted": true}`` for each one deleted (or moved to another budget) since.
Without it, everything the budget holds (no tombstones). The budget's knowledge is read
before its rows: a row committed in between comes again next time (its knowledge is above
the one answered), never not at all.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.db.models import DateTimeField, ExpressionWrapper, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Now
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from budgets.models import Budget, BudgetKnowledge, Category, Tombstone
from budgets.serializers import BudgetSerializer, CategorySerializer
from permissions.scoping import VIEW, caller, visible
from permissions.viewsets import TenantViewSet
from server.compiled import compiled_sql
from server.exceptions import Gone
from server.fields import WholeNumberField
from server.openapi import (
    ErrorResponse410Serializer,
    document_error_codes,
    document_links,
    on_created,
    pin_values,
)
from transactions.models import Transaction
from transactions.rows import as_page_rows, page_values
from transactions.serializers import TransactionSerializer

document_error_codes(410, "resync_required")
document_links({"budgets_create": {"201": on_created("budgets_changes_retrieve")}})
# A row of changes/ is the row or its tombstone, told apart by "deleted".
pin_values(
    {
        ("Deleted", "deleted"): True,
        ("ChangedCategory", "deleted"): False,
        ("ChangedTransaction", "deleted"): False,
    }
)

_KNOWLEDGE_MAX = 2**63 - 1


class ChangesQuerySerializer(serializers.Serializer):
    last_knowledge_of_server = WholeNumberField(
        required=False,
        min_value=0,
        max_value=_KNOWLEDGE_MAX,
        help_text="The server_knowledge of your last sync of this budget; left out: everything",
    )

    def to_internal_value(self, data):
        return super().to_internal_value({key: value for key, value in data.items() if value != ""})


class DeletedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    deleted = serializers.BooleanField(help_text="Always true: the row was deleted or left the budget.")


class ChangedCategorySerializer(CategorySerializer):
    deleted = serializers.BooleanField(default=False, help_text="Always false for a row that is there.")

    class Meta(CategorySerializer.Meta):
        fields = [*CategorySerializer.Meta.fields, "deleted"]
        read_only_fields = fields


class ChangedTransactionSerializer(TransactionSerializer):
    deleted = serializers.BooleanField(default=False, help_text="Always false for a row that is there.")

    class Meta(TransactionSerializer.Meta):
        fields = [*TransactionSerializer.Meta.fields, "deleted"]
        read_only_fields = fields

    def to_representation(self, tx):
        return {**super().to_representation(tx), "deleted": False}


def _either(name: str, changed) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[changed, DeletedSerializer],
        resource_type_field_name=None,
        many=True,
    )


class ChangesSerializer(serializers.Serializer):
    server_knowledge = serializers.IntegerField(
        help_text="The budget's knowledge now: send it as last_knowledge_of_server next time."
    )
    budget = BudgetSerializer()
    categories = _either("CategoryChange", ChangedCategorySerializer)
    transactions = _either("TransactionChange", ChangedTransactionSerializer)


RESYNC = OpenApiResponse(
    ErrorResponse410Serializer,
    description="resync_required: the budget's deletions that far back are no longer kept (older than "
    "TOMBSTONE_RETENTION_DAYS), or the knowledge is one the budget never had. Sync again without "
    "last_knowledge_of_server and replace what you keep of the budget.",
)


def _resync() -> Gone:
    return Gone(
        "Your copy of this budget is too old to bring up to date (or not one this server gave): sync "
        "again without last_knowledge_of_server and replace what you keep.",
        code="resync_required",
    )


_BUDGET_FIELDS = tuple(field.attname for field in Budget._meta.concrete_fields)


def _with_knowledge(budgets):
    """The budget's knowledge and the floor of its kept deletions, read with it (before its
    rows: module docstring). Past the retention a deletion counts as pruned whether or not
    prune_tombstones has run yet: the 410 does not wait for cron. The cutoff is the
    database's clock, which also writes the deletions' time."""
    kept = BudgetKnowledge.objects.filter(budget_id=OuterRef("pk"))
    cutoff = ExpressionWrapper(
        Now() - Value(timedelta(days=settings.TOMBSTONE_RETENTION_DAYS)), output_field=DateTimeField()
    )
    expired = Tombstone.objects.filter(budget_id=OuterRef("pk"), deleted_at__lt=cutoff).order_by("-knowledge")
    return budgets.annotate(
        server_knowledge=Coalesce(Subquery(kept.values("server_knowledge")), 0),
        tombstone_floor=Greatest(
            Coalesce(Subquery(kept.values("tombstone_floor")), 0),
            Coalesce(Subquery(expired.values("knowledge")[:1]), 0),
        ),
    )


def budget_with_knowledge(user, pk: int) -> Budget | None:
    """The budget ``pk`` if ``user`` may view it (visible_to, with a stand-in for the caller's
    id), with its owner, the caller's right to change it, its knowledge and its tombstone
    floor; None otherwise. One statement, compiled once per process (server/compiled.py):
    building it through the ORM cost more than the rest of a changes/ request."""
    if not 0 < pk < 2**63:
        return None

    def build(user_id, budget_id):
        someone = caller(user_id)
        budgets = _with_knowledge(visible(Budget, someone, VIEW).with_rights(someone))
        columns = (*_BUDGET_FIELDS, "owner__email", "can_change", "server_knowledge", "tombstone_floor")
        return budgets.filter(pk=budget_id).values_list(*columns)

    # The permissions' ids are constants of the SQL too: server/compiled.py forgets it when
    # they may change (post_migrate).
    key = ("budget-with-knowledge", settings.TOMBSTONE_RETENTION_DAYS)
    sql, params = compiled_sql(key, build, user.pk, pk)
    with connections[Budget.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    count = len(_BUDGET_FIELDS)
    budget = Budget(**dict(zip(_BUDGET_FIELDS, row[:count], strict=True)))
    email, can_change, budget.server_knowledge, budget.tombstone_floor = row[count:]
    budget.owner = User(pk=budget.owner_id, email=email)
    budget.can_change = bool(can_change)
    return budget


@extend_validation_errors(
    ["invalid", "min_value", "max_value"], field_name="last_knowledge_of_server", actions=["changes"]
)
class BudgetSyncViewSet(TenantViewSet):
    """budgets/{id}/changes/ (registered under budgets/)."""

    model = Budget
    serializer_class = ChangesSerializer
    filterset_class = None
    pagination_class = None
    read_row = staticmethod(budget_with_knowledge)

    def with_related(self, queryset):
        return _with_knowledge(queryset.select_related("owner").with_rights(self.request.user))

    @extend_schema(
        summary="Get a budget's changes",
        description="Delta sync. With `last_knowledge_of_server` (the `server_knowledge` of your "
        "last sync): the budget, and every category and transaction written since, each deleted "
        'one (or one moved to another budget) as `{"id": ..., "deleted": true}`. Without it: the '
        "budget and everything in it (no deletions). Keep `server_knowledge` for next time. A "
        "budget you can no longer view is a 404: drop it. A knowledge older than the kept "
        "deletions (TOMBSTONE_RETENTION_DAYS) is a 410 `resync_required`: sync again without it.",
        parameters=[ChangesQuerySerializer],
        responses={200: ChangesSerializer, 410: RESYNC},
    )
    @action(detail=True, methods=["get"], scope_action="view")
    def changes(self, request, pk=None):
        budget = self.get_row()
        query = ChangesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data.get("last_knowledge_of_server")
        knowledge, floor = budget.server_knowledge, budget.tombstone_floor
        if since is not None and not floor <= since <= knowledge:
            raise _resync()
        return Response(
            {
                "server_knowledge": knowledge,
                "budget": BudgetSerializer(budget, context={"request": request}).data,
                **changes_since(budget, since),
            }
        )


def changes_since(budget: Budget, since: int | None) -> dict:
    """The budget's categories and transactions written after ``since`` (all of them for
    None or 0), then those that left it after ``since`` as tombstones (none for None). In the
    order of their (budget, knowledge) index: the changes since a knowledge are read off it,
    however many rows the budget holds."""
    categories = Category.objects.filter(budget=budget).order_by("knowledge", "id")
    gone = {"category": [], "transaction": []}
    if since:
        categories = categories.filter(knowledge__gt=since)
    if since is not None:
        for object_type, object_id in (
            Tombstone.objects.filter(budget_id=budget.pk, knowledge__gt=since)
            .order_by("object_id")
            .values_list("object_type", "object_id")
        ):
            gone[object_type].append({"id": object_id, "deleted": True})
    categories, transactions = list(categories), _transactions_since(budget.pk, since or 0)
    for row in categories:
        row.budget = budget  # the currency of their amounts, without a query each
    return {
        "categories": [{**CategorySerializer(row).data, "deleted": False} for row in categories]
        + gone["category"],
        "transactions": ChangedTransactionSerializer(transactions, many=True).data + gone["transaction"],
    }


def _transactions_since(budget_id: int, since: int) -> list:
    """The budget's transactions written after ``since`` (0: all), as the list's PageRows,
    in the order of the (budget, knowledge) index; compiled once per process."""

    def build(budget, after):
        rows = Transaction.objects.filter(budget_id=budget).order_by("knowledge", "id")
        # Rows written before the feature came have no knowledge: "all" takes them too.
        return page_values(rows.filter(knowledge__gt=after) if after else rows)

    if since:
        sql, params = compiled_sql(("changes-transactions",), build, budget_id, since)
    else:
        sql, params = compiled_sql(("changes-transactions-all",), lambda budget: build(budget, 0), budget_id)
    with connections[Transaction.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return as_page_rows(cursor.fetchall())
