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

import re
from dataclasses import dataclass
from datetime import datetime

import django_filters
from django.db import transaction
from django.db.models import Case, F, IntegerField, Max, Min, QuerySet, Value, When
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.models import User
from budgets import services
from budgets.models import Budget, BudgetGroupObjectPermission, BudgetUserObjectPermission, GrantSource
from budgets.services import GRANTEE_HOUSEHOLD, GRANTEE_USER
from households.models import Household
from households.serializers import HouseholdRefSerializer, UserRefSerializer
from permissions.codenames import permission_id
from server.pagination import LimitOffsetPagination

MANAGE_GRANTS = "budgets.manage_grants"

# A budget's user grants sort before its household grants.
_KIND = {GRANTEE_USER: 0, GRANTEE_HOUSEHOLD: 1}
_PREFIX = {GRANTEE_USER: "u", GRANTEE_HOUSEHOLD: "g"}
_GRANT_ID = re.compile(r"^([ug])([1-9][0-9]{0,17})$")


def may_manage_grants(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and user.is_staff and user.has_perm(MANAGE_GRANTS)
    )


class CanManageGrants(BasePermission):
    message = "Managing grants needs a staff account with the budgets.manage_grants permission."

    def has_permission(self, request, view):
        return may_manage_grants(request.user)


# Reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    id: str
    budget: Budget
    grantee_type: str
    grantee: User | Household
    permission: str
    granted_by: str
    granted_by_user: User | None
    granted_at: datetime


def _keys(rows: QuerySet, grantee_type: str, grantee: str) -> QuerySet:
    """One row per (budget, grantee): its lowest row id, whether change_budget is among
    its rows, and when it was last granted."""
    change = permission_id("budgets", "change_budget")
    return (
        rows.order_by()
        .values("content_object_id", grantee_id=F(grantee))
        .annotate(
            kind=Value(_KIND[grantee_type], output_field=IntegerField()),
            row_id=Min("pk"),
            edit=Max(Case(When(permission_id=change, then=Value(1)), default=Value(0))),
            last_granted_at=Max("granted_at"),
        )
        .values_list("content_object_id", "kind", "grantee_id", "row_id", "edit", "last_granted_at")
    )


def grant_keys(
    *, budget: Budget | None = None, user: User | None = None, household: Household | None = None
) -> QuerySet:
    """Every grant as (budget id, kind, grantee id, row id, edit, granted at), ordered by
    budget, users first, then grantee: one UNION query, so counting and paging happen in
    the database. The filters narrow together (AND)."""
    users = BudgetUserObjectPermission.objects.all()
    groups = BudgetGroupObjectPermission.objects.filter(group__household__isnull=False)
    if budget is not None:
        users, groups = users.filter(content_object=budget), groups.filter(content_object=budget)
    if user is not None:
        users, groups = users.filter(user=user), groups.none()
    if household is not None:
        users, groups = users.none(), groups.filter(group_id=household.group_id)
    return (
        _keys(users, GRANTEE_USER, "user_id")
        .union(_keys(groups, GRANTEE_HOUSEHOLD, "group__household__id"), all=True)
        .order_by("content_object_id", "kind", "grantee_id")
    )


def grants_for(keys) -> list[Grant]:
    """The grants behind ``keys`` (from grant_keys), in their order: two queries at most,
    whatever their number."""
    keys = list(keys)
    wanted = {grantee_type: [k[3] for k in keys if k[1] == n] for grantee_type, n in _KIND.items()}
    rows = {GRANTEE_USER: {}, GRANTEE_HOUSEHOLD: {}}
    if wanted[GRANTEE_USER]:
        rows[GRANTEE_USER] = {
            row.pk: row
            for row in BudgetUserObjectPermission.objects.filter(pk__in=wanted[GRANTEE_USER]).select_related(
                "content_object", "user", "granted_by"
            )
        }
    if wanted[GRANTEE_HOUSEHOLD]:
        rows[GRANTEE_HOUSEHOLD] = {
            row.pk: row
            for row in BudgetGroupObjectPermission.objects.filter(
                pk__in=wanted[GRANTEE_HOUSEHOLD]
            ).select_related("content_object", "group__household", "granted_by")
        }
    grants = []
    for _budget_id, number, _grantee_id, row_id, edit, granted_at in keys:
        grantee_type = GRANTEE_USER if number == _KIND[GRANTEE_USER] else GRANTEE_HOUSEHOLD
        row = rows[grantee_type].get(row_id)  # the grant's lowest row speaks for its source
        if row is None:
            continue  # revoked between the two queries
        grants.append(
            Grant(
                id=f"{_PREFIX[grantee_type]}{row_id}",
                budget=row.content_object,
                grantee_type=grantee_type,
                grantee=row.user if grantee_type == GRANTEE_USER else row.group.household,
                permission=services.EDIT_LEVEL if edit else services.VIEW_LEVEL,
                granted_by=row.source,
                granted_by_user=row.granted_by,
                granted_at=granted_at,
            )
        )
    return grants


def parse_grant_id(value: str) -> tuple[str, int]:
    """ "u12" -> ("user", 12); anything else is a 404."""
    match = _GRANT_ID.match(value or "")
    if match is None:
        raise NotFound()
    grantee_type = GRANTEE_USER if match[1] == "u" else GRANTEE_HOUSEHOLD
    return grantee_type, int(match[2])


# Input and output -----------------------------------------------------------------------


class GrantFilter(django_filters.FilterSet):
    """Validates the list's filters. Staff see every grant, so the ids are deliberately
    not scoped to the caller; an unknown id is a 400 ``invalid_choice``."""

    budget = django_filters.ModelChoiceFilter(queryset=Budget.objects.all())
    user = django_filters.ModelChoiceFilter(queryset=User.objects.all())
    household = django_filters.ModelChoiceFilter(queryset=Household.objects.all())


class GrantInputSerializer(serializers.Serializer):
    # Staff grant on every budget, to anyone: these ids are deliberately not scoped.
    budget = serializers.PrimaryKeyRelatedField(queryset=Budget.objects.all())
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.all(), required=False)
    permission = serializers.ChoiceField(choices=[services.VIEW_LEVEL, services.EDIT_LEVEL])

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
    grantee_type = serializers.ChoiceField(choices=[GRANTEE_USER, GRANTEE_HOUSEHOLD])
    grantee = serializers.SerializerMethodField(
        help_text="{id, email} for a user, {id, name} for a household."
    )
    permission = serializers.ChoiceField(choices=[services.VIEW_LEVEL, services.EDIT_LEVEL])
    granted_by = serializers.ChoiceField(choices=GrantSource.choices)
    granted_by_user = UserRefSerializer(allow_null=True, help_text="Who made it, if still known.")
    granted_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_grantee(self, grant) -> dict:
        if grant.grantee_type == GRANTEE_USER:
            return UserRefSerializer(grant.grantee).data
        return HouseholdRefSerializer(grant.grantee).data


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

    @extend_schema(parameters=FILTERS, responses={200: GrantSerializer(many=True)})
    def list(self, request):
        """Every explicit grant (owner shares and admin grants), one item per (budget, grantee)."""
        filterset = GrantFilter(request.query_params, queryset=Budget.objects.none())
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        filters = {name: value for name, value in filterset.form.cleaned_data.items() if value is not None}
        page = self.paginate_queryset(grant_keys(**filters))
        return self.get_paginated_response(GrantSerializer(grants_for(page), many=True).data)

    @extend_schema(request=GrantInputSerializer, responses={201: GrantSerializer})
    def create(self, request):
        """An admin grant: no household in common needed; replaces the grantee's share, if any."""
        serializer = GrantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        budget, level = data["budget"], data["permission"]
        with transaction.atomic():  # the answer is read under the write's locks
            if "user" in data:
                services.grant_to_user(budget=budget, grantee=data["user"], level=level, actor=request.user)
                keys = grant_keys(budget=budget, user=data["user"])
            else:
                household = data["household"]
                services.grant_to_household(
                    budget=budget, household=household, level=level, actor=request.user
                )
                keys = grant_keys(budget=budget, household=household)
            (grant,) = grants_for(keys)
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[GRANT_ID], responses={204: None})
    def destroy(self, request, pk=None):
        """Revokes the grant: every guardian row of that (budget, grantee)."""
        grantee_type, row_id = parse_grant_id(pk)
        services.grant_revoke(grantee_type=grantee_type, row_id=row_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("grants", GrantViewSet, basename="admin-grant")

urlpatterns = router.urls
