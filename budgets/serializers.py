from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.currencies import CURRENCY_CHOICES
from budgets.models import Budget, Category, GrantSource, Period
from budgets.money import MoneyInputField, format_amount, parse_amount
from households.serializers import HouseholdRefSerializer, UserRefSerializer
from permissions.fields import ScopedPrimaryKeyRelatedField
from server.fields import StrictCharField

OWNER_RIGHTS = ["view", "change", "delete", "share"]


@extend_schema_field({"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "12.30"})
class AmountField(serializers.Field):
    """Money out: a decimal string with exactly the currency's minor units, read from the
    integer ``<source>_minor`` and the object's currency. Input uses MoneyInputField."""

    def __init__(self, *, currency_from: str = "currency", **kwargs):
        self.currency_from = currency_from
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, instance):
        currency = instance
        for part in self.currency_from.split("."):
            currency = getattr(currency, part)
        return format_amount(getattr(instance, f"{self.source}_minor"), currency)


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
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=["view", "change", "delete", "share"]))
    )
    def get_my_permissions(self, budget) -> list[str]:
        user = self.context["request"].user
        if budget.owned_by(user):
            return list(OWNER_RIGHTS)
        return ["view", "change"] if getattr(budget, "can_change", False) else ["view"]


class BudgetInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    amount = MoneyInputField()
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    period = serializers.ChoiceField(choices=Period.choices)
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
        fields = ["id", "budget", "name", "allocated", "created_at"]
        read_only_fields = fields


class CategoryInputSerializer(serializers.Serializer):
    budget = ScopedPrimaryKeyRelatedField(queryset=Budget.objects)
    name = StrictCharField(max_length=100)
    allocated = MoneyInputField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            self.fields["budget"].read_only = True

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("The name cannot be blank.", code="blank")
        return value


class ShareLevelSerializer(serializers.Serializer):
    permission = serializers.ChoiceField(choices=["view", "edit"])


class ShareSerializer(serializers.Serializer):
    grantee_type = serializers.ChoiceField(choices=["user", "household"])
    grantee = serializers.SerializerMethodField()
    permission = serializers.ChoiceField(choices=["view", "edit"])
    granted_by = serializers.ChoiceField(choices=GrantSource.choices)
    granted_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_grantee(self, share) -> dict:
        if share["grantee_type"] == "user":
            return UserRefSerializer(share["grantee"]).data
        return HouseholdRefSerializer(share["grantee"]).data
