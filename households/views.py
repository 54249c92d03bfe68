from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors, set_validation_errors
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from households import services
from households.emails import invitation_for_token
from households.models import Household, Invitation
from households.serializers import (
    BalanceOutstandingErrorResponseSerializer,
    ForceQuerySerializer,
    HouseholdInputSerializer,
    HouseholdSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberSerializer,
    MembershipSerializer,
    MyInvitationSerializer,
    RoleInputSerializer,
)
from permissions.viewsets import TenantViewSet
from server.authentication import PublicEndpoint
from server.conditional import ETagMixin, precondition_of
from server.fields import StrictCharField
from server.openapi import (
    CREATED_ID,
    ErrorResponse409Serializer,
    document_error_codes,
    document_links,
    on_created,
)
from server.throttling import AuthIPThrottle

document_error_codes(403, "only_owner_invites_admins", "only_owner_changes_roles", "only_owner_forces")
document_error_codes(
    409,
    "owner_must_transfer",
    "balance_outstanding",
    "already_member",
    "one_owner",
    "invitation_accepted",
    "invitation_declined",
    "invitation_revoked",
    "invitation_expired",
)
document_links(
    {
        "households_create": {
            "201": on_created(
                "households_retrieve",
                "households_partial_update",
                "households_destroy",
                "households_members_list",
                "households_invitations_list",
                "households_invitations_create",
            )
        },
        "households_invitations_create": {
            "201": {
                "HouseholdsInvitationsDestroy": {
                    "operationId": "households_invitations_destroy",
                    "parameters": {"path.id": "$request.path.id", "path.invitation_id": CREATED_ID},
                }
            }
        },
    }
)

USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)
INVITATION_ID = OpenApiParameter("invitation_id", str, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="List my households",
        description="The households you belong to, with your role in each and how many members they have.",
    ),
    retrieve=extend_schema(
        summary="Get a household",
        description="One household you belong to. Any other id, existing or not, is the same 404.",
    ),
    destroy=extend_schema(
        summary="Delete a household",
        description="Owner only. Ends every membership and every share of a budget with the "
        "household; the budgets stay with their owners. While shared costs are not settled it "
        "is a 409 `balance_outstanding` (with the balances) unless sent with `?force=true`.",
        parameters=[ForceQuerySerializer],
        responses={204: None, 409: BalanceOutstandingErrorResponseSerializer},
    ),
)
@extend_validation_errors(["invalid"], field_name="force", actions=["destroy"])
@extend_validation_errors(["owner_cannot_demote_self"], field_name="role", actions=["member"])
class HouseholdViewSet(
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Households I belong to. Non-members get 404 on every route under an id;
    members without the role get 403."""

    model = Household
    serializer_class = HouseholdSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    scope_actions = {"create": "view"}

    def with_related(self, queryset):
        # The member count's GROUP BY drops Meta.ordering: pages need it said again.
        return (
            queryset.with_my_role(self.request.user)
            .with_member_count()
            .select_related("group")
            .order_by(*Household._meta.ordering)
        )

    def _household(self, pk) -> Household:
        return self.get_queryset().get(pk=pk)

    @extend_schema(
        summary="Create a household",
        description="A new household with you as its owner and only member; invite others with "
        "households/{id}/invitations/.",
        request=HouseholdInputSerializer,
        responses={201: HouseholdSerializer},
    )
    def create(self, request):
        data = self._valid(HouseholdInputSerializer, request.data)
        with transaction.atomic():  # the answer is read under the write's locks
            household = services.household_create(name=data["name"], actor=request.user)
            return Response(
                self.get_serializer(self._household(household.pk)).data, status=status.HTTP_201_CREATED
            )

    @extend_schema(
        summary="Rename a household",
        description="Changes the household's name. The owner and admins may; a member gets 403.",
        request=HouseholdInputSerializer,
        responses={200: HouseholdSerializer},
    )
    def partial_update(self, request, pk=None):
        household = self.get_object()
        precondition = self.precondition_for(household)
        data = self._valid(HouseholdInputSerializer, request.data)
        with transaction.atomic():  # the answer is read under the write's locks
            services.household_update(household=household, name=data["name"], precondition=precondition)
            return Response(self.get_serializer(self._household(household.pk)).data)

    def perform_destroy(self, instance):
        services.household_delete(
            household=instance, precondition=self.precondition_for(instance), force=_force(self.request)
        )

    @extend_schema(
        summary="List a household's members",
        description="Every member with their role (owner, admin, member), oldest first; a plain "
        "list. Each carries its membership's version for If-Match on a role change or removal.",
        responses={200: MemberSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], scope_action="view", pagination_class=None)
    def members(self, request, pk=None):
        household = self.get_object()
        memberships = household.memberships.select_related("user").order_by("joined_at", "id")
        return Response(MemberSerializer(memberships, many=True).data)

    @extend_schema(
        summary="Change a member's role",
        description='Owner only (403 `only_owner_changes_roles`). Making someone "owner" hands '
        "the household over: you become an admin. The owner cannot demote themselves.",
        parameters=[USER_ID],
        request=RoleInputSerializer,
        responses={200: MemberSerializer},
        examples=[OpenApiExample("Make an admin", value={"role": "admin"}, request_only=True)],
    )
    @action(detail=True, methods=["patch"], url_path=r"members/(?P<user_id>\d+)", scope_action="view")
    def member(self, request, pk=None, user_id=None):
        household = self.get_object()
        precondition = precondition_of(request)
        data = self._valid(RoleInputSerializer, request.data)
        membership = services.membership_change_role(
            household=household,
            user_id=int(user_id),
            role=data["role"],
            actor=request.user,
            precondition=precondition,
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        summary="Remove a member",
        description="The owner removes anyone else; an admin removes members only. What they saw "
        "through the household ends, as do user shares that no longer have a household in common. "
        "To go yourself, leave instead. A member whose shared costs are not settled stays (409 "
        "`balance_outstanding`, with their balances) unless the owner sends `?force=true`, which "
        "writes what they owe or are owed off in the ledger.",
        parameters=[USER_ID, ForceQuerySerializer],
        request=None,
        responses={204: None, 409: BalanceOutstandingErrorResponseSerializer},
    )
    @member.mapping.delete
    def remove_member(self, request, pk=None, user_id=None):
        household = self.get_object()
        services.membership_remove(
            household=household,
            user_id=int(user_id),
            actor=request.user,
            precondition=precondition_of(request),
            force=_force(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Leave a household",
        description="Ends your membership. The last member leaving deletes the household; the "
        "owner cannot leave while others remain (409 `owner_must_transfer`): hand it over first. "
        "Nor can anyone whose shared costs are not settled (409 `balance_outstanding`, with the "
        "balances): settle up first.",
        request=None,
        responses={204: None, 409: BalanceOutstandingErrorResponseSerializer},
    )
    @action(detail=True, methods=["post"], scope_action="view")
    def leave(self, request, pk=None):
        services.membership_leave(household=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="List a household's open invitations",
        description="Invitations not yet accepted, declined, revoked or expired, newest first; a "
        "plain list. The owner and admins only.",
        responses={200: InvitationSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], scope_action="invite", pagination_class=None)
    def invitations(self, request, pk=None):
        household = self.get_object()
        pending = household.invitations.open().select_related("invited_by").order_by("-created_at")
        return Response(InvitationSerializer(pending, many=True).data)

    @extend_schema(
        summary="Invite someone to a household",
        description="Emails an invitation with a token to the address, valid INVITATION_TTL_DAYS. "
        'The owner invites members and admins; an admin invites members only. `role` defaults to "member".',
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer},
        examples=[
            OpenApiExample(
                "Invite a member", value={"email": "sam@example.com", "role": "member"}, request_only=True
            )
        ],
    )
    @invitations.mapping.post
    def invite(self, request, pk=None):
        household = self.get_object()
        data = self._valid(InvitationCreateSerializer, request.data)
        invitation = services.invitation_create(household=household, actor=request.user, **data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke an invitation",
        description="The invitation's token stops working. The owner and admins only; one already "
        "answered or expired is a 409.",
        parameters=[INVITATION_ID],
        request=None,
        responses={204: None, 409: ErrorResponse409Serializer},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"invitations/(?P<invitation_id>[^/.]+)",
        scope_action="invite",
    )
    def revoke_invitation(self, request, pk=None, invitation_id=None):
        household = self.get_object()
        try:
            invitation = household.invitations.get(pk=invitation_id)
        except (Invitation.DoesNotExist, DjangoValidationError, ValueError):
            raise NotFound() from None
        services.invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _valid(serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _force(request) -> bool:
    query = ForceQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["force"]


# "invite" is the POST mapping of the "invitations" action, which extend_validation_errors'
# check does not know about; the same registration, made directly.
set_validation_errors(
    HouseholdViewSet,
    ["already_member", "already_invited"],
    field_name="email",
    actions=["invite"],
    methods=None,
    versions=None,
)
set_validation_errors(
    HouseholdViewSet, ["invalid"], field_name="force", actions=["remove_member"], methods=None, versions=None
)


@extend_schema_view(
    list=extend_schema(
        summary="List invitations to me",
        description="Open invitations addressed to your email, once that email is verified; newest first.",
    )
)
class MyInvitationViewSet(mixins.ListModelMixin, TenantViewSet):
    """Invitations addressed to my email. Anyone else gets 404 for their ids."""

    model = Invitation
    serializer_class = MyInvitationSerializer
    scope_actions = {"list": "view"}

    def with_related(self, queryset):
        if self.action == "list":
            queryset = queryset.open()
        return queryset.select_related("household", "invited_by").order_by("-created_at")

    @extend_schema(
        summary="Accept an invitation",
        description="Joins the household with the invitation's role. Needs a verified email equal "
        "to the invitation's; one no longer open is a 409.",
        request=None,
        responses={200: MembershipSerializer, 409: ErrorResponse409Serializer},
    )
    @action(detail=True, methods=["post"], scope_action="respond")
    def accept(self, request, pk=None):
        membership = services.invitation_accept(invitation=self.get_object(), user=request.user)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        summary="Decline an invitation",
        description="Turns the invitation down; it can no longer be accepted. Needs a verified "
        "email equal to the invitation's; one no longer open is a 409.",
        request=None,
        responses={204: None, 409: ErrorResponse409Serializer},
    )
    @action(detail=True, methods=["post"], scope_action="respond")
    def decline(self, request, pk=None):
        services.invitation_decline(invitation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class _InvitationTokenSerializer(serializers.Serializer):
    token = StrictCharField(max_length=1000)


INVITATION_TOKEN_EXAMPLE = OpenApiExample(
    "The token from the email", value={"token": "eyJpbnZpdGF0aW9uIjo0Mn0:1tQx2A:Hk3v"}, request_only=True
)


@extend_validation_errors(["token_invalid"], field_name="token")
class AcceptInvitationByTokenView(APIView):
    """Joins with the token from an invitation email, whatever address the caller's account
    has: the token proves the invited mailbox. (An account whose verified email is the
    invitation's address can also use invitations/{id}/accept/.)"""

    permission_classes = [IsAuthenticated]
    throttle_classes = [*APIView.throttle_classes, AuthIPThrottle]

    @extend_schema(
        operation_id="invitations_accept_by_token",
        summary="Accept an invitation with its token",
        description="Joins with the token from an invitation email, whatever address your account "
        "has: the token proves the invited mailbox (an unverified account with that address "
        "becomes verified).",
        request=_InvitationTokenSerializer,
        examples=[INVITATION_TOKEN_EXAMPLE],
        responses={200: MembershipSerializer, 409: ErrorResponse409Serializer},
    )
    def post(self, request):
        data = HouseholdViewSet._valid(_InvitationTokenSerializer, request.data)
        invitation = invitation_for_token(data["token"])
        membership = services.invitation_accept(invitation=invitation, user=request.user, by_token=True)
        return Response(MembershipSerializer(membership).data)


@extend_validation_errors(["token_invalid"], field_name="token")
class DeclineInvitationByTokenView(APIView):
    """Declines with the token from an invitation email; no account needed."""

    authentication_classes = [PublicEndpoint]
    permission_classes = [AllowAny]
    throttle_classes = [AuthIPThrottle]

    @extend_schema(
        operation_id="invitations_decline_by_token",
        summary="Decline an invitation with its token",
        description="Declines with the token from an invitation email; no account or sign-in needed.",
        request=_InvitationTokenSerializer,
        examples=[INVITATION_TOKEN_EXAMPLE],
        responses={204: None, 409: ErrorResponse409Serializer},
        auth=[],
    )
    def post(self, request):
        data = HouseholdViewSet._valid(_InvitationTokenSerializer, request.data)
        services.invitation_decline(invitation=invitation_for_token(data["token"]))
        return Response(status=status.HTTP_204_NO_CONTENT)
