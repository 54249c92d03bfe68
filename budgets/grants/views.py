"""Staff grants API: every explicit grant on every budget, for site admins.

Routes (included under /api/v1/admin/ by server/urls.py):

- ``grants/`` GET: every grant, owner-made shares and admin grants alike; filters
  ``budget``, ``user`` (grants to that user), ``household`` (grants to that household);
  limit/offset pagination. POST ``{budget, user | household, permission}``: an admin grant.
- ``grants/{id}/`` DELETE: removes the grant, every guardian row behind it.

Who may call it: active staff users holding ``budgets.manage_grants`` (CanManageGrants);
anonymous callers get a 401, everyone else a 403. This is the one API that reads grants
outside the caller's tenant scope, which is its job, so it does not derive from
TenantViewSet. What a grant *gives* its grantee is still decided by
``Budget.objects.visible_to()`` reading the same guardian rows.

A grant is one (budget, grantee) pair, whatever number of guardian rows stand behind it
("view" is view_budget; "edit" is view_budget + change_budget). Its id is ``"u<row id>"``
for a user grant and ``"g<row id>"`` for a household grant, where the row id is the lowest
id among the guardian rows behind it (for grants made here or by an owner, the view_budget
row's). Replacing a grant (a new level, or an admin grant over an owner share) replaces its
rows, so it gets a new id.
"""

from django.db import transaction
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status, viewsets
from rest_framework.response import Response

from budgets import services
from budgets.grants.permissions import CanManageGrants
from budgets.grants.serializers import GrantFilter, GrantInputSerializer, GrantSerializer
from budgets.models import Budget
from budgets.shares import parse_share_id, share_keys, shares_for
from server.openapi import CREATED_ID, document_links
from server.pagination import LimitOffsetPagination

document_links(
    {
        "budgets_create": {
            "201": {
                "AdminGrantsCreate": {
                    "operationId": "admin_grants_create",
                    "requestBody": {"budget": CREATED_ID},
                }
            }
        },
        "admin_grants_create": {
            "201": {
                "AdminGrantsDestroy": {
                    "operationId": "admin_grants_destroy",
                    "parameters": {"path.id": CREATED_ID},
                }
            }
        },
    }
)

# Views ----------------------------------------------------------------------------------

GRANT_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description='A grant id, e.g. "u12" or "g7".')
FILTERS = [
    OpenApiParameter("budget", int, description="Grants on this budget."),
    OpenApiParameter("user", int, description="Grants to this user (not to their households)."),
    OpenApiParameter("household", int, description="Grants to this household."),
]


# The list's filters are read by hand (filter_backends is empty), so their errors are listed here.
_FILTER_ERRORS = ["invalid_choice", "null_characters_not_allowed"]


@extend_validation_errors(_FILTER_ERRORS, field_name="budget", actions=["list"])
@extend_validation_errors(_FILTER_ERRORS, field_name="user", actions=["list"])
@extend_validation_errors(_FILTER_ERRORS, field_name="household", actions=["list"])
@extend_validation_errors(["budget_owner"], field_name="user", actions=["create"])
@extend_validation_errors(["one_grantee"], field_name="non_field_errors", actions=["create"])
class GrantViewSet(viewsets.GenericViewSet):
    """Every explicit grant on every budget, for staff holding budgets.manage_grants."""

    permission_classes = [CanManageGrants]
    serializer_class = GrantSerializer
    pagination_class = LimitOffsetPagination
    filter_backends = []

    @extend_schema(
        summary="List every grant",
        description="Every explicit grant on every budget, owner shares and admin grants alike, one "
        "item per (budget, grantee); filter by `budget`, `user` or `household`.",
        parameters=FILTERS,
        responses={200: GrantSerializer(many=True)},
    )
    def list(self, request):
        """Every explicit grant (owner shares and admin grants), one item per (budget, grantee)."""
        filterset = GrantFilter(request.query_params, queryset=Budget.objects.none())
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        filters = {name: value for name, value in filterset.form.cleaned_data.items() if value is not None}
        page = self.paginate_queryset(share_keys(**filters))
        return self.get_paginated_response(GrantSerializer(shares_for(page), many=True).data)

    @extend_schema(
        summary="Grant access to a budget",
        description="An admin grant to one user or one household (exactly one of them), no "
        "household in common needed; it replaces the grantee's share on that budget, if any. "
        "Not to the budget's owner.",
        request=GrantInputSerializer,
        responses={201: GrantSerializer},
        examples=[
            OpenApiExample(
                "An adviser may read",
                value={"budget": 12, "user": 7, "permission": "view"},
                request_only=True,
            ),
            OpenApiExample(
                "A household may edit",
                value={"budget": 12, "household": 3, "permission": "edit"},
                request_only=True,
            ),
        ],
    )
    def create(self, request):
        """An admin grant: no household in common needed; replaces the grantee's share, if any."""
        serializer = GrantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        budget, level = data["budget"], data["permission"]
        with transaction.atomic():  # the answer is read under the write's locks
            if "user" in data:
                services.grant_to_user(budget=budget, grantee=data["user"], level=level, actor=request.user)
                keys = share_keys(budget=budget, user=data["user"])
            else:
                household = data["household"]
                services.grant_to_household(
                    budget=budget, household=household, level=level, actor=request.user
                )
                keys = share_keys(budget=budget, household=household)
            (grant,) = shares_for(keys)
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke a grant",
        description="Removes the grant, owner share or admin grant, with every permission row "
        'behind that (budget, grantee). The id is the list\'s: "u12" or "g7".',
        parameters=[GRANT_ID],
        responses={204: None},
    )
    def destroy(self, request, pk=None):
        """Revokes the grant: every guardian row of that (budget, grantee)."""
        grantee_type, row_id = parse_share_id(pk)
        services.grant_revoke(grantee_type=grantee_type, row_id=row_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
