"""Shapes of shared costs: a transaction's ``split`` in and out, settlements, the ledger,
balances and debts. Rules that depend on the database (who is a member, who can view the
budget, whether exact amounts add up) are checked by the services, under their locks."""

from decimal import Decimal

from rest_framework import serializers

from households.models import Household
from households.serializers import UserRefSerializer
from money.amounts import format_amount
from money.currencies import CURRENCY_CHOICES
from money.fields import AmountField, MoneyInputField
from permissions.fields import PK_RANGE, ScopedPrimaryKeyRelatedField
from server.fields import ChoiceField, StrictCharField
from transactions.models import Kind, SettlementKind, SplitMode

MAX_SPLIT_MEMBERS = 100
HUNDRED = Decimal(100)


class UserIdField(serializers.IntegerField):
    """A user's id; whether they belong to the household is the service's question (a
    stranger's id and an unknown one answer alike: not a member)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=PK_RANGE.stop - 1, **kwargs)


class SplitShareInputSerializer(serializers.Serializer):
    user = UserIdField()
    # One of these, by the split's mode: exact -> amount, percent -> percent, shares -> weight;
    # equal takes none.
    amount = MoneyInputField(required=False)
    percent = serializers.DecimalField(
        max_digits=8, decimal_places=4, min_value=Decimal(0), max_value=HUNDRED, required=False
    )
    weight = serializers.DecimalField(
        max_digits=16, decimal_places=4, min_value=Decimal("0.0001"), required=False
    )


_VALUE_FOR_MODE = {SplitMode.EXACT: "amount", SplitMode.PERCENT: "percent", SplitMode.SHARES: "weight"}


class SplitInputSerializer(serializers.Serializer):
    """``{household, paid_by, mode, shares: [{user, amount|percent|weight}]}``. The household
    resolves among the caller's own (a foreign one reads like an unknown id)."""

    household = ScopedPrimaryKeyRelatedField(queryset=Household.objects)
    paid_by = UserIdField()
    mode = ChoiceField(choices=SplitMode.choices)
    shares = SplitShareInputSerializer(many=True, required=False, max_length=MAX_SPLIT_MEMBERS)

    def validate(self, attrs):
        mode = attrs["mode"]
        shares = attrs.setdefault("shares", [])
        if mode != SplitMode.EQUAL and not shares:
            raise serializers.ValidationError(
                {"shares": [f"A split in {mode} mode lists its members and what each one takes."]},
                code="empty",
            )
        users = [share["user"] for share in shares]
        if len(set(users)) != len(users):
            raise serializers.ValidationError(
                {"shares": ["Each member appears once in a split."]}, code="duplicate_member"
            )
        value = _VALUE_FOR_MODE.get(mode)
        if value is not None:
            missing = {
                str(i): {value: [serializers.ErrorDetail("This field is required.", code="required")]}
                for i, share in enumerate(shares)
                if value not in share
            }
            if missing:
                raise serializers.ValidationError({"shares": missing})
        for share in shares:  # only the mode's own value is kept
            for other in ("amount", "percent", "weight"):
                if other != value:
                    share.pop(other, None)
        if mode == SplitMode.PERCENT and sum(share["percent"] for share in shares) != HUNDRED:
            raise serializers.ValidationError(
                {"shares": ["The percentages of a split must add up to exactly 100."]}, code="percent_total"
            )
        return attrs


def _decimal_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def split_representation(split, shares, currency: str) -> dict:
    """A transaction's split as the API shows it: each member's exact part, positive (an
    income's parts are what the payer received for each member)."""
    return {
        "household": split.household_id,
        "paid_by": split.paid_by_id,
        "mode": split.mode,
        "shares": [
            {
                "user": share.user_id,
                "amount": format_amount(abs(share.amount_minor), currency),
                "percent": _decimal_text(share.weight) if split.mode == SplitMode.PERCENT else None,
                "weight": _decimal_text(share.weight) if split.mode == SplitMode.SHARES else None,
            }
            for share in shares
        ],
    }


class SplitShareSerializer(serializers.Serializer):
    user = serializers.IntegerField(allow_null=True, help_text="null: an account deleted since")
    amount = serializers.CharField(
        help_text="Exact, in the currency's minor units; the parts sum to the amount"
    )
    percent = serializers.CharField(allow_null=True)
    weight = serializers.CharField(allow_null=True)


class SplitSerializer(serializers.Serializer):
    """Documents split_representation() (the schema's "split" of a transaction)."""

    household = serializers.IntegerField()
    paid_by = serializers.IntegerField(allow_null=True)
    mode = ChoiceField(choices=SplitMode.choices)
    shares = SplitShareSerializer(many=True)


# Settlements ------------------------------------------------------------------------------


class SettlementInputSerializer(serializers.Serializer):
    to = UserIdField()
    amount = MoneyInputField()
    currency = ChoiceField(choices=[(c, c) for c in CURRENCY_CHOICES])
    date = serializers.DateField()
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = UserIdField()  # a Python keyword: declared here
        return fields

    def validate(self, attrs):
        from money.amounts import parse_amount

        try:
            attrs["amount_minor"] = parse_amount(attrs.pop("amount"), attrs["currency"])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"amount": exc.detail}) from None
        if attrs["from"] == attrs["to"]:
            raise serializers.ValidationError(
                {"to": ["A settlement is a payment between two different members."]}, code="same_member"
            )
        return attrs


class SettlementSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = ChoiceField(choices=SettlementKind.choices, read_only=True)
    amount = AmountField(read_only=True)
    currency = serializers.CharField(read_only=True)
    date = serializers.DateField(read_only=True)
    note = serializers.CharField(read_only=True)
    recorded_by = UserRefSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = UserRefSerializer(source="from_user", read_only=True, allow_null=True)
        fields["to"] = UserRefSerializer(source="to_user", read_only=True, allow_null=True)
        return fields


# The ledger, balances and debts -----------------------------------------------------------


class LedgerShareSerializer(serializers.Serializer):
    user = UserRefSerializer(allow_null=True)
    amount = serializers.CharField()


class LedgerEntrySerializer(serializers.Serializer):
    """One line of the household's ledger: a split transaction ("split"), a payment between
    two members ("payment") or what was written off when a member was removed ("write_off")."""

    type = ChoiceField(choices=[("split", "split"), *SettlementKind.choices])
    date = serializers.DateField()
    currency = serializers.CharField()
    amount = serializers.CharField()
    transaction = serializers.IntegerField(allow_null=True, help_text="split: the transaction's id")
    kind = ChoiceField(choices=Kind.choices, allow_null=True, help_text="split: expense or income")
    payee = serializers.CharField(allow_null=True)
    paid_by = UserRefSerializer(allow_null=True)
    shares = LedgerShareSerializer(many=True, allow_null=True)
    settlement = serializers.IntegerField(allow_null=True, help_text="payment, write_off: its id")
    note = serializers.CharField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = UserRefSerializer(allow_null=True)
        fields["to"] = UserRefSerializer(allow_null=True)
        return fields


class MemberBalanceSerializer(serializers.Serializer):
    user = UserRefSerializer(allow_null=True)
    net = serializers.CharField(help_text="Paid for others - owed to others + settlements; may be negative")


class CurrencyBalancesSerializer(serializers.Serializer):
    currency = serializers.CharField()
    balances = MemberBalanceSerializer(many=True)


class DebtSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = UserRefSerializer(allow_null=True)
        fields["to"] = UserRefSerializer(allow_null=True)
        return fields


class DebtsSerializer(serializers.Serializer):
    simplified = serializers.BooleanField()
    debts = DebtSerializer(many=True)


class DebtsQuerySerializer(serializers.Serializer):
    simplify = serializers.BooleanField(
        required=False,
        default=False,
        help_text="false (default): what each member owes each other member; true: the fewest "
        "transfers that settle everyone.",
    )


# The codes the split's checks add to each attr ("split.shares.INDEX.user"), beyond each field's
# own: documented on every write that takes a split (TransactionViewSet, bulk with "INDEX.").
SPLIT_ERROR_CODES = {
    "split": ["split_shares_required", "not_a_member", "cannot_view_budget", "percent_total"],
    "split.paid_by": ["not_a_member", "cannot_view_budget"],
    # "null" and the list's own "max_length" (under non_field_errors) come from DRF's
    # ListSerializer, which drf-standardized-errors does not document for a nested many=True.
    "split.shares": [
        "null",
        "empty",
        "duplicate_member",
        "percent_total",
        "split_total_mismatch",
        "not_a_member",
        "cannot_view_budget",
    ],
    "split.shares.non_field_errors": ["max_length"],
    "split.shares.INDEX.user": ["not_a_member", "cannot_view_budget"],
    "split.shares.INDEX.amount": ["required"],
    "split.shares.INDEX.percent": ["required"],
    "split.shares.INDEX.weight": ["required"],
}


def document_split_errors(*, actions: list[str], prefix: str = ""):
    """A class decorator: SPLIT_ERROR_CODES on ``actions`` (attrs under ``prefix``)."""
    from drf_standardized_errors.openapi_validation_errors import extend_validation_errors

    def decorate(viewset):
        for attr, codes in SPLIT_ERROR_CODES.items():
            viewset = extend_validation_errors(codes, field_name=prefix + attr, actions=actions)(viewset)
        return viewset

    return decorate
