from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from households.models import Household, Invitation, InvitationRole, InvitationStatus, Membership, Role
from server.fields import ChoiceField, StrictCharField, StrictEmailField
from server.openapi import ErrorResponse409Serializer


class HouseholdSerializer(serializers.ModelSerializer):
    my_role = ChoiceField(choices=Role.choices, read_only=True)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Household
        fields = ["id", "name", "my_role", "member_count", "created_at", "updated_at", "version"]
        read_only_fields = ["id", "created_at", "updated_at", "version"]


class HouseholdInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("The name cannot be blank.", code="blank")
        return value


class HouseholdRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = ["id", "name"]
        read_only_fields = fields


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)


class MemberSerializer(serializers.ModelSerializer):
    """A member, addressed as members/<user id>/; ``id`` and ``version`` are the membership's,
    its ETag "<id>-<version>" (If-Match on PATCH and DELETE)."""

    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "joined_at", "version"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    """A membership as its own member sees it (after accepting an invitation)."""

    household = HouseholdRefSerializer(read_only=True)
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["household", "user", "role", "joined_at"]
        read_only_fields = fields


class RoleInputSerializer(serializers.Serializer):
    role = ChoiceField(choices=Role.choices)


class InvitationCreateSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    role = ChoiceField(choices=InvitationRole.choices, default=InvitationRole.MEMBER)


class InvitationSerializer(serializers.ModelSerializer):
    status = ChoiceField(choices=InvitationStatus.choices, source="effective_status", read_only=True)
    invited_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields


class MyInvitationSerializer(InvitationSerializer):
    household = HouseholdRefSerializer(read_only=True)

    class Meta(InvitationSerializer.Meta):
        fields = ["id", "household", "email", "role", "status", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields


class ForceQuerySerializer(serializers.Serializer):
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Owner only: go ahead although shared costs are not settled (a removed member's "
        "outstanding amounts are written off in the ledger).",
    )


class OutstandingBalanceSerializer(serializers.Serializer):
    user = serializers.IntegerField(allow_null=True, help_text="null: an account deleted since")
    currency = serializers.CharField()
    net = serializers.CharField(help_text="Positive: the others owe them; negative: they owe the others")


class BalanceOutstandingErrorResponseSerializer(ErrorResponse409Serializer):
    """A 409; with code balance_outstanding, the non-zero balances that block the change."""

    balances = OutstandingBalanceSerializer(many=True, required=False)
