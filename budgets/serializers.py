from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.models import Budget, Category, GrantSource, Period
from budgets.shares import GRANTEE_TYPES, GRANTEE_USER, LEVELS
from households.serializers import HouseholdRefSerializer, UserRefSerializer
from money.amounts import parse_amount
from money.currencies import CURRENCY_CHOICES
from money.fields import AmountField, MoneyInputField
from permissions.fields import ScopedPrimaryKeyRelatedField
from server.fields import ChoiceField, StrictCharField

OWNER_RIGHTS = ["view", "change", "delete", "share"]


class BudgetSerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True)
    owner = UserRefSerializer(read_only=True)
    my_permissions = serializers.SerializerMethodField()

    class Meta:
        model = Budget
        fields = [
            "id",
            "name",
            "amount",
            "currency",
            "period",
            "start_date",
            "end_date",
            "owner",
            "my_permissions",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=ChoiceField(choices=["view", "change", "delete", "share"]))
    )
    def get_my_permissions(self, budget) -> list[str]:
        user = self.context["request"].user
        if budget.owned_by(user):
            return list(OWNER_RIGHTS)
        return ["view", "change"] if getattr(budget, "can_change", False) else ["view"]


class BudgetInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    amount = MoneyInputField()
    currency = ChoiceField(choices=CURRENCY_CHOICES)
    period = ChoiceField(choices=Period.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("The name cannot be blank.", code="blank")
        return value

    def validate(self, attrs):
        # A new budget's amount is read in the currency sent with it. A change's amount is
        # left as sent: budget_update reads it in the currency the budget has under its lock.
        if self.instance is None:
            try:
                attrs["amount_minor"] = parse_amount(attrs.pop("amount"), attrs["currency"])
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"amount": exc.detail}) from None
        return attrs


class CategorySerializer(serializers.ModelSerializer):
    budget = serializers.PrimaryKeyRelatedField(read_only=True)
    allocated = AmountField(read_only=True, allow_null=True, currency_from="budget.currency")

    class Meta:
        model = Category
        fields = ["id", "budget", "name", "allocated", "created_at", "version"]
        read_only_fields = fields


class CategoryUpdateSerializer(serializers.Serializer):
    """A category's changes: it stays in its budget (a ``budget`` sent is not read)."""

    name = StrictCharField(max_length=100)
    allocated = MoneyInputField(required=False, allow_null=True)

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("The name cannot be blank.", code="blank")
        return value


class CategoryInputSerializer(CategoryUpdateSerializer):
    budget = ScopedPrimaryKeyRelatedField(queryset=Budget.objects)


class ShareLevelSerializer(serializers.Serializer):
    permission = ChoiceField(choices=LEVELS)


class ShareSerializer(serializers.Serializer):
    grantee_type = ChoiceField(choices=GRANTEE_TYPES)
    grantee = serializers.SerializerMethodField()
    permission = ChoiceField(choices=LEVELS)
    granted_by = ChoiceField(choices=GrantSource.choices)
    granted_at = serializers.DateTimeField()
    version = serializers.IntegerField(
        help_text='Changes (upward) whenever the share is written; its ETag is "<grantee_type><grantee '
        'id>-<version>", e.g. "user12-4711", for If-Match on PUT and DELETE.'
    )

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_grantee(self, share) -> dict:
        if share.grantee_type == GRANTEE_USER:
            return UserRefSerializer(share.grantee).data
        return HouseholdRefSerializer(share.grantee).data
