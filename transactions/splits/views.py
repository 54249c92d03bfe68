"""households/{id}/ledger/, balances/, debts/ and settlements/: a household's shared costs,
to its current members (anyone else, former members included, gets the unknown id's 404).
Served here, above households, because they are sums of split transactions."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors, set_validation_errors
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from households.models import Household
from money.currencies import CURRENCY_CHOICES
from permissions.fields import PK_RANGE
from permissions.viewsets import TenantViewSet
from server.fields import WholeNumberField
from server.openapi import ErrorResponse409Serializer, document_error_codes, document_links
from server.pagination import LimitOffsetPagination
from transactions.splits import selectors, services
from transactions.splits.serializers import (
    CurrencyBalancesSerializer,
    DebtsQuerySerializer,
    DebtsSerializer,
    LedgerEntrySerializer,
    SettlementInputSerializer,
    SettlementSerializer,
)

document_error_codes(403, "cannot_record_settlement", "cannot_delete_settlement", "only_owner_forces")
document_error_codes(409, "balance_outstanding", "write_off_final")
document_links(
    {
        "households_settlements_create": {
            "201": {
                "HouseholdsSettlementsDestroy": {
                    "operationId": "households_settlements_destroy",
                    "parameters": {"path.id": "$request.path.id", "path.settlement_id": "$response.body#/id"},
                }
            }
        },
    }
)

SETTLEMENT_ID = OpenApiParameter("settlement_id", int, OpenApiParameter.PATH)


class LedgerQuerySerializer(serializers.Serializer):
    member = WholeNumberField(
        required=False,
        min_value=1,
        max_value=PK_RANGE.stop - 1,
        help_text="Only lines this user takes part in",
    )
    date_after = serializers.DateField(required=False, help_text="On or after (inclusive)")
    date_before = serializers.DateField(required=False, help_text="On or before (inclusive)")
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False, help_text="ISO 4217 code")

    def to_internal_value(self, data):
        # An empty parameter is one left out, as django-filter reads the other lists' filters.
        return super().to_internal_value({key: value for key, value in data.items() if value != ""})


SETTLEMENT_EXAMPLE = {
    "from": 12,
    "to": 7,
    "amount": "41.50",
    "currency": "EUR",
    "date": "2026-11-30",
    "note": "Groceries, November",
}


@extend_validation_errors(["invalid", "min_value", "max_value"], field_name="member", actions=["ledger"])
@extend_validation_errors(["invalid"], field_name="date_after", actions=["ledger"])
@extend_validation_errors(["invalid"], field_name="date_before", actions=["ledger"])
@extend_validation_errors(["invalid_choice"], field_name="currency", actions=["ledger"])
@extend_validation_errors(["invalid"], field_name="simplify", actions=["debts"])
class HouseholdSharingViewSet(TenantViewSet):
    """A household's shared costs (registered under households/): its members only."""

    model = Household
    serializer_class = SettlementSerializer
    filterset_class = None
    pagination_class = None

    def with_related(self, queryset):
        # The caller's role comes with the row: the owner check reads it without a query.
        return queryset.with_my_role(self.request.user)

    @extend_schema(
        summary="List a household's ledger",
        description="Every split transaction (date, payee, amount, currency, who paid, each "
        "member's exact share, the transaction's id) and every settlement and write-off of the "
        "household, newest first, paginated. Members read it whatever becomes of the budgets' "
        "sharing; a transaction's notes, category and description stay with its budget. Filter by "
        "`member` (lines they pay, owe, send or receive), dates (inclusive) and `currency`.",
        parameters=[LedgerQuerySerializer],
        responses={200: LedgerEntrySerializer(many=True)},
        tags=["sharing"],
    )
    @action(detail=True, methods=["get"], scope_action="view", pagination_class=LimitOffsetPagination)
    def ledger(self, request, pk=None):
        household = self.get_object()
        query = LedgerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.ledger_entries(household, **query.validated_data)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(selectors.ledger_details(page))

    @extend_schema(
        summary="Get a household's balances",
        description="Per currency, every member's net: what they paid for others, minus what they "
        "owe others, plus settlements paid, minus settlements received. Positive: the others owe "
        "them. The nets of a currency sum to exactly zero; currencies are never converted.",
        responses={200: CurrencyBalancesSerializer(many=True)},
        tags=["sharing"],
    )
    @action(detail=True, methods=["get"], scope_action="view")
    def balances(self, request, pk=None):
        return Response(selectors.household_balances(self.get_object()))

    @extend_schema(
        summary="Get who owes whom in a household",
        description="Per currency, the debts between members: with `simplify=false` (default) what "
        "each member owes each other member, netted per pair; with `simplify=true` the fewest "
        "transfers that settle every balance exactly (largest creditor with largest debtor, ties "
        "by user id). Never converted between currencies.",
        parameters=[DebtsQuerySerializer],
        responses={200: DebtsSerializer},
        tags=["sharing"],
    )
    @action(detail=True, methods=["get"], scope_action="view")
    def debts(self, request, pk=None):
        household = self.get_object()
        query = DebtsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        simplified = query.validated_data["simplify"]
        return Response(
            {"simplified": simplified, "debts": selectors.debts_between(household, simplified=simplified)}
        )

    @extend_schema(
        summary="List a household's settlements",
        description="Payments recorded between members, and write-offs, newest first, paginated.",
        responses={200: SettlementSerializer(many=True)},
        tags=["sharing"],
    )
    @action(detail=True, methods=["get"], scope_action="view", pagination_class=LimitOffsetPagination)
    def settlements(self, request, pk=None):
        household = self.get_object()
        rows = household.settlements.select_related("from_user", "to_user", "recorded_by").order_by(
            "-date", "-id"
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SettlementSerializer(page, many=True).data)

    @extend_schema(
        summary="Record a settlement",
        description="A payment from one member (`from`) to another (`to`) in any currency: it moves "
        "their balances and is never budget spending. Either of the two, or the household's owner "
        "or an admin, records it.",
        request=SettlementInputSerializer,
        responses={201: SettlementSerializer},
        examples=[OpenApiExample("Settle up", value=SETTLEMENT_EXAMPLE, request_only=True)],
        tags=["sharing"],
    )
    @settlements.mapping.post
    def settlements_create(self, request, pk=None):
        household = self.get_object()
        serializer = SettlementInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        settlement = services.settlement_create(
            household=household,
            actor=request.user,
            from_id=data["from"],
            to_id=data["to"],
            amount_minor=data["amount_minor"],
            currency=data["currency"],
            date=data["date"],
            note=data["note"],
        )
        return Response(SettlementSerializer(settlement).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete a settlement",
        description="By whoever recorded it, or the household's owner; the balances move back. A "
        "write-off cannot be deleted (409 `write_off_final`).",
        parameters=[SETTLEMENT_ID],
        request=None,
        responses={
            204: None,
            409: OpenApiResponse(ErrorResponse409Serializer, description="A write-off stays."),
        },
        tags=["sharing"],
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"settlements/(?P<settlement_id>[0-9]+)",
        scope_action="view",
    )
    def settlement(self, request, pk=None, settlement_id=None):
        household = self.get_object()
        settlement_id = int(settlement_id)
        if settlement_id not in PK_RANGE:
            raise NotFound()
        services.settlement_delete(household=household, settlement_id=settlement_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# "settlements_create" is the POST mapping of the "settlements" action, which
# extend_validation_errors' check does not know about; the same registration, made directly.
for _field, _codes in (("from", ["not_a_member"]), ("to", ["not_a_member", "same_member"])):
    set_validation_errors(
        HouseholdSharingViewSet,
        _codes,
        field_name=_field,
        actions=["settlements_create"],
        methods=None,
        versions=None,
    )
