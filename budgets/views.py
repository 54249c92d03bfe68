from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from budgets import selectors, services
from budgets.filters import BudgetFilter, CategoryFilter
from budgets.history import budget_events, category_events, household_activity, viewable_among
from budgets.models import Budget, Category
from budgets.serializers import (
    BudgetInputSerializer,
    BudgetSerializer,
    CategoryInputSerializer,
    CategorySerializer,
    CategoryUpdateSerializer,
    ShareLevelSerializer,
    ShareSerializer,
)
from budgets.sync import KnowledgeHeaderMixin
from history.api import (
    HISTORY_DOCS,
    EventPageSerializer,
    HistoryQuerySerializer,
    document_history_errors,
    history_page,
)
from households.models import Household
from permissions.viewsets import TenantViewSet
from server.conditional import ETagMixin, precondition_of
from server.openapi import CREATED_ID, document_links, on_created

document_links(
    {
        "budgets_create": {
            "201": {
                **on_created(
                    "budgets_retrieve",
                    "budgets_update",
                    "budgets_partial_update",
                    "budgets_destroy",
                    "budgets_shares_list",
                    "budgets_history_retrieve",
                ),
                "CategoriesCreate": {
                    "operationId": "categories_create",
                    "requestBody": {"budget": CREATED_ID},
                },
            }
        },
        "categories_create": {
            "201": on_created(
                "categories_retrieve",
                "categories_partial_update",
                "categories_destroy",
                "categories_history_retrieve",
            )
        },
    }
)

USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)
HOUSEHOLD_ID = OpenApiParameter("household_id", int, OpenApiParameter.PATH)
SHARE_EXAMPLES = [
    OpenApiExample("Read only", value={"permission": "view"}, request_only=True),
    OpenApiExample("Read and write", value={"permission": "edit"}, request_only=True),
]
BUDGET_EXAMPLE = OpenApiExample(
    "A monthly budget",
    value={
        "name": "Groceries",
        "amount": "450.00",
        "currency": "EUR",
        "period": "monthly",
        "start_date": "2026-01-01",
    },
    request_only=True,
)


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(
        summary="List budgets",
        description="Budgets you own plus those shared with you (by a person or through a "
        "household), with your permissions on each. Filter with `owned`, "
        "`shared_with_household`, `search`; sort with `ordering`.",
    ),
    retrieve=extend_schema(
        summary="Get a budget",
        description="One budget you can see. One you cannot, existing or not, is the same 404.",
    ),
    destroy=extend_schema(
        summary="Delete a budget",
        description="Owner only. Its categories, transactions and shares go with it.",
    ),
)
@extend_validation_errors(
    ["required", "invalid"], field_name="end_date", actions=["create", "update", "partial_update"]
)
@extend_validation_errors(["currency_locked"], field_name="currency", actions=["update", "partial_update"])
@extend_validation_errors(["no_common_household"], field_name="user", actions=["share_user"])
@extend_validation_errors(["not_a_member"], field_name="household", actions=["share_household"])
@document_history_errors(actions=["history"])
class BudgetViewSet(
    KnowledgeHeaderMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Budgets I own plus those shared with me. Viewers read; editors also change;
    only the owner deletes and shares."""

    model = Budget
    serializer_class = BudgetSerializer
    filterset_class = BudgetFilter
    knowledge_actions = ("create", "update", "partial_update")

    def with_related(self, queryset):
        return queryset.select_related("owner").with_rights(self.request.user)

    def _fresh(self, pk):
        return self.get_queryset().get(pk=pk)

    @extend_schema(
        summary="Create a budget",
        description="A new budget owned by you: an amount per period (weekly, monthly, yearly, or "
        "custom with an `end_date`) in one currency.",
        request=BudgetInputSerializer,
        responses={201: BudgetSerializer},
        examples=[BUDGET_EXAMPLE],
    )
    def create(self, request):
        data = _valid(BudgetInputSerializer, request.data)
        with transaction.atomic():  # the answer is read under the write's locks
            budget = services.budget_create(owner=request.user, **data)
            self.wrote(budget.pk)
            return Response(self.get_serializer(self._fresh(budget.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a budget",
        description="Takes the whole budget, as POST does; editors and the owner. The currency "
        "cannot change once amounts are recorded in the budget (400 `currency_locked`).",
        request=BudgetInputSerializer,
        responses={200: BudgetSerializer},
        examples=[BUDGET_EXAMPLE],
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Update a budget",
        description="Changes only the fields sent; editors and the owner. The currency cannot "
        "change once amounts are recorded in the budget (400 `currency_locked`).",
        request=BudgetInputSerializer(partial=True),
        responses={200: BudgetSerializer},
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial):
        budget = self.get_object()
        precondition = self.precondition_for(budget)
        data = _valid(BudgetInputSerializer, request.data, instance=budget, partial=partial)
        with transaction.atomic():  # the answer is read under the write's locks
            services.budget_update(budget=budget, actor=request.user, precondition=precondition, **data)
            self.wrote(budget.pk)
            return Response(self.get_serializer(self._fresh(budget.pk)).data)

    def perform_destroy(self, instance):
        services.budget_delete(budget=instance, precondition=self.precondition_for(instance))

    @extend_schema(
        summary="Get a budget's history",
        description="Every change to the budget, its categories, its transactions (deleted ones "
        "included: their history stays here), their splits and, for the owner and editors, its "
        "shares; to whoever can view the budget now. " + HISTORY_DOCS,
        parameters=[HistoryQuerySerializer],
        responses={200: EventPageSerializer},
    )
    @action(detail=True, methods=["get"], scope_action="view", pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        budget = self.get_object()
        return history_page(
            request,
            budget_events(budget, can_change=budget.can_change),
            viewable=viewable_among(request.user),
        )

    @extend_schema(
        summary="List a budget's shares",
        description="Everyone the budget is shared with, people and households, with their level "
        "and whether the owner or a site admin granted it; a plain list. The owner and editors.",
        responses={200: ShareSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], scope_action="change", pagination_class=None, filterset_class=None)
    def shares(self, request, pk=None):
        budget = self.get_object()
        return Response(ShareSerializer(selectors.budget_shares(budget=budget), many=True).data)

    @extend_schema(
        summary="Share a budget with a person",
        parameters=[USER_ID],
        request=ShareLevelSerializer,
        responses={200: ShareSerializer, 201: ShareSerializer},
        description='Owner only. Gives one person "view" or "edit" on the budget; they must share '
        "a household with you (400 `no_common_household`). 201 when the user had no share on the "
        "budget, 200 when their level changed.",
        examples=SHARE_EXAMPLES,
    )
    @action(
        detail=True,
        methods=["put"],
        url_path=r"shares/users/(?P<user_id>\d+)",
        scope_action="share",
        filterset_class=None,
    )
    def share_user(self, request, pk=None, user_id=None):
        return self._put_share(request, services.share_with_user, grantee_id=int(user_id), key="user_id")

    @extend_schema(
        summary="Stop sharing a budget with a person",
        description="Owner only. Revokes the person's share, whoever granted it.",
        parameters=[USER_ID],
        request=None,
        responses={204: None},
    )
    @share_user.mapping.delete
    def unshare_user(self, request, pk=None, user_id=None):
        budget = self.get_object()
        services.share_revoke_user(
            budget=budget, grantee_id=int(user_id), precondition=precondition_of(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Share a budget with a household",
        parameters=[HOUSEHOLD_ID],
        request=ShareLevelSerializer,
        responses={200: ShareSerializer, 201: ShareSerializer},
        description='Owner only. Gives every member of a household you belong to "view" or "edit" '
        "(400 `not_a_member` otherwise), for as long as they are members. 201 when the household "
        "had no share on the budget, 200 when its level changed.",
        examples=SHARE_EXAMPLES,
    )
    @action(
        detail=True,
        methods=["put"],
        url_path=r"shares/households/(?P<household_id>\d+)",
        scope_action="share",
        filterset_class=None,
    )
    def share_household(self, request, pk=None, household_id=None):
        return self._put_share(
            request, services.share_with_household, grantee_id=int(household_id), key="household_id"
        )

    def _put_share(self, request, share_with, *, grantee_id: int, key: str):
        """201 for a new share, 200 for a new level; the answer is read under the write's locks.
        If-Match names the share's version; If-None-Match: * creates it only if there is none."""
        budget = self.get_object()
        precondition = precondition_of(request, may_create=True)
        level = _valid(ShareLevelSerializer, request.data)["permission"]
        with transaction.atomic():
            created = share_with(
                budget=budget, level=level, actor=request.user, precondition=precondition, **{key: grantee_id}
            )
            (share,) = selectors.budget_shares(budget=budget, **{key: grantee_id})
        return Response(
            ShareSerializer(share).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"ETag": share.etag},
        )

    @extend_schema(
        summary="Stop sharing a budget with a household",
        description="Owner only. Revokes the household's share; members keep any share made to "
        "them in person.",
        parameters=[HOUSEHOLD_ID],
        request=None,
        responses={204: None},
    )
    @share_household.mapping.delete
    def unshare_household(self, request, pk=None, household_id=None):
        budget = self.get_object()
        services.share_revoke_household(
            budget=budget, household_id=int(household_id), precondition=precondition_of(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="List categories",
        description="Categories of every budget you can see; filter with `budget`.",
    ),
    retrieve=extend_schema(
        summary="Get a category",
        description="One category of a budget you can see.",
    ),
    destroy=extend_schema(
        summary="Delete a category",
        description="Needs edit on its budget. Its transactions stay, without a category.",
    ),
)
@extend_validation_errors(["unique"], field_name="name", actions=["create", "partial_update"])
@document_history_errors(actions=["history"])
class CategoryViewSet(
    KnowledgeHeaderMixin,
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Categories follow their budget: view to read, edit to write."""

    model = Category
    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    knowledge_actions = ("create", "partial_update", "destroy")

    def with_related(self, queryset):
        return queryset.select_related("budget")

    @extend_schema(
        summary="Create a category",
        description="A category in a budget you can edit; names are unique within the budget. "
        "`allocated`, optional, is a decimal string in the budget's currency.",
        request=CategoryInputSerializer,
        responses={201: CategorySerializer},
        examples=[
            OpenApiExample(
                "Food with an allocation",
                value={"budget": 12, "name": "Food", "allocated": "300.00"},
                request_only=True,
            )
        ],
    )
    def create(self, request):
        data = _valid(CategoryInputSerializer, request.data, context={"request": request})
        category = services.category_create(actor=request.user, **data)
        self.wrote_row(category)
        return Response(self.get_serializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Update a category",
        description="Renames it or changes its allocation (null for none); needs edit on its "
        "budget. A category stays in its budget.",
        request=CategoryUpdateSerializer(partial=True),
        responses={200: CategorySerializer},
    )
    def partial_update(self, request, pk=None):
        category = self.get_object()
        precondition = self.precondition_for(category)
        data = _valid(CategoryUpdateSerializer, request.data, partial=True)
        category = services.category_update(
            category=category, actor=request.user, precondition=precondition, **data
        )
        self.wrote(category.budget_id)
        return Response(self.get_serializer(category).data)

    def perform_destroy(self, instance):
        services.category_delete(
            category=instance, actor=self.request.user, precondition=self.precondition_for(instance)
        )
        self.wrote(instance.budget_id)

    @extend_schema(
        summary="Get a category's history",
        description="Every change to the category, to whoever can view its budget now. " + HISTORY_DOCS,
        parameters=[HistoryQuerySerializer],
        responses={200: EventPageSerializer},
    )
    @action(detail=True, methods=["get"], scope_action="view", pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        return history_page(
            request, category_events(self.get_object()), viewable=viewable_among(request.user)
        )


@document_history_errors(actions=["activity"])
class HouseholdActivityViewSet(TenantViewSet):
    """households/{id}/activity/ (registered under households/): served here, above
    households, because it shows the budgets shared with the household."""

    model = Household
    serializer_class = EventPageSerializer
    filterset_class = None
    pagination_class = None

    def with_related(self, queryset):
        # The caller's role comes with the row: the owner check reads it without a query.
        return queryset.with_my_role(self.request.user)

    @extend_schema(
        summary="Get a household's activity",
        description="What happened in the household: its memberships and settlements, and every "
        "change to the budgets shared with it (and to its splits and shares) that you can view now, "
        "never a budget you cannot view, even one you could view before. Members only. " + HISTORY_DOCS,
        parameters=[HistoryQuerySerializer],
        responses={200: EventPageSerializer},
    )
    @action(detail=True, methods=["get"], scope_action="view")
    def activity(self, request, pk=None):
        events, budgets = household_activity(self.get_object(), request.user)
        return history_page(request, events, viewable=viewable_among(request.user), budgets=budgets)
