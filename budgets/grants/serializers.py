"""The grants API's input, filters and output. Staff grant on every budget, to anyone: the
ids here are deliberately not scoped to the caller."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from budgets.models import Budget, GrantSource
from budgets.shares import GRANTEE_TYPES, GRANTEE_USER, LEVELS
from households.models import Household
from households.serializers import HouseholdRefSerializer, UserRefSerializer
from server.fields import ChoiceField
from server.filters import FilterSet, IdChoiceFilter


class GrantFilter(FilterSet):
    """Validates the list's filters; an unknown id is a 400 ``invalid_choice``."""

    budget = IdChoiceFilter(queryset=Budget.objects.all())
    user = IdChoiceFilter(queryset=User.objects.all())
    household = IdChoiceFilter(queryset=Household.objects.all())


class GrantInputSerializer(serializers.Serializer):
    budget = serializers.PrimaryKeyRelatedField(queryset=Budget.objects.all())
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.all(), required=False)
    permission = ChoiceField(choices=LEVELS)

    def validate(self, attrs):
        if ("user" in attrs) == ("household" in attrs):
            raise serializers.ValidationError(
                "Name exactly one grantee: a user or a household.", code="one_grantee"
            )
        return attrs


class BudgetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class GrantSerializer(serializers.Serializer):
    id = serializers.CharField(
        help_text='"u<row id>" for a user grant, "g<row id>" for a household grant: the lowest '
        "id among the guardian rows behind it."
    )
    budget = BudgetRefSerializer()
    grantee_type = ChoiceField(choices=GRANTEE_TYPES)
    grantee = serializers.SerializerMethodField(
        help_text="{id, email} for a user, {id, name} for a household."
    )
    permission = ChoiceField(choices=LEVELS)
    granted_by = ChoiceField(choices=GrantSource.choices)
    granted_by_user = UserRefSerializer(allow_null=True, help_text="Who made it, if still known.")
    granted_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_grantee(self, grant) -> dict:
        if grant.grantee_type == GRANTEE_USER:
            return UserRefSerializer(grant.grantee).data
        return HouseholdRefSerializer(grant.grantee).data
