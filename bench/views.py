"""The framework floor: bare Django views that return the same rows as the API with
.values() and JsonResponse — no DRF, no serializers, no throttles. Mounted only when
BENCH_ENDPOINTS is on; the caller names the user (bench data only)."""

import json
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum
from django.http import HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from budgets.models import Budget
from transactions.filters import amount_bound, search
from transactions.models import Transaction
from transactions.pagination import compiled_counted_page, window_page_ids
from transactions.selectors import budget_monthly_report, transaction_counts_by_budget

TX_FIELDS = (
    "id",
    "budget_id",
    "category_id",
    "kind",
    "amount_minor",
    "date",
    "payee",
    "description",
    "notes",
    "created_by_id",
    "created_by__email",
    "created_at",
    "updated_at",
)


def _user(request) -> User:
    return User.objects.get(pk=int(request.GET["user"]))


def _page(user, queryset, order, limit: int, *, narrowed: set, offset: int = 0) -> tuple[int, list[dict]]:
    """The same queries as the API's paginator: an unnarrowed list's count and page in one
    statement on PostgreSQL; otherwise rows per budget (the counters, or a count when
    filters, ``narrowed`` by their names, narrow the list), then the page's rows by id among
    the window's (walked where the API walks)."""
    from django.db import connection
    from django.db.models import Count

    if connection.vendor == "postgresql" and not narrowed:
        count, rows = compiled_counted_page(user, order, offset=offset, limit=limit)
        return count, [{"id": row.pk, **row._asdict()} for row in rows]
    if narrowed:
        per_budget = dict(queryset.order_by().values_list("budget_id").annotate(rows=Count("id")))
    else:
        per_budget = transaction_counts_by_budget(user=user)
    count = sum(per_budget.values())
    if connection.vendor == "postgresql" and len(per_budget) > 1:
        page_ids = window_page_ids(
            queryset,
            scope=Budget.objects.visible_pks(user),
            weights=per_budget,
            order=order,
            offset=offset,
            limit=limit,
            narrowed=narrowed,
        )
        return count, list(Transaction.objects.filter(pk__in=page_ids).order_by(*order).values(*TX_FIELDS))
    if len(per_budget) == 1:
        queryset = queryset.filter(budget_id=next(iter(per_budget)))
    return count, list(queryset.order_by(*order).values(*TX_FIELDS)[offset : offset + limit])


ORDERS = {
    "-amount": ("-amount_minor", "-id"),
    "amount": ("amount_minor", "id"),
    "date": ("date", "id"),
}


@require_GET
def transactions(request):
    user = _user(request)
    queryset = Transaction.objects.visible_to(user)
    if "date_after" in request.GET:
        queryset = queryset.filter(date__gte=request.GET["date_after"], date__lte=request.GET["date_before"])
    if "category" in request.GET:
        queryset = queryset.filter(category_id=int(request.GET["category"]))
    if "search" in request.GET:
        queryset = search(queryset, request.GET["search"])
    if "kind" in request.GET:
        queryset = queryset.filter(kind=request.GET["kind"])
    if "amount_min" in request.GET:
        queryset = amount_bound(queryset, Decimal(request.GET["amount_min"]), at_least=True)
    order = ORDERS.get(request.GET.get("ordering", ""), ("-date", "-id"))
    filters = ("date_after", "date_before", "category", "search", "kind", "amount_min")
    narrowed = {name for name in filters if name in request.GET}
    count, results = _page(
        user,
        queryset,
        order,
        int(request.GET.get("limit", 50)),
        narrowed=narrowed,
        offset=int(request.GET.get("offset", 0)),
    )
    return JsonResponse({"count": count, "results": results})


@require_GET
def transaction(request, pk: int):
    """The retrieve's floor: one visible row by id."""
    row = Transaction.objects.visible_to(_user(request)).filter(pk=pk).values(*TX_FIELDS).first()
    return JsonResponse(row) if row else JsonResponse({"detail": "Not found."}, status=404)


@require_GET
def bare(request):
    """The floors section's bottom line: a Django view and JsonResponse, no DRF, no
    authentication, no database."""
    return JsonResponse({"status": "ok"})


@require_GET
def budgets(request):
    user = _user(request)
    queryset = Budget.objects.visible_to(user).select_related("owner").with_rights(user)
    fields = (
        "id",
        "name",
        "amount_minor",
        "currency",
        "period",
        "start_date",
        "end_date",
        "owner_id",
        "owner__email",
        "can_change",
        "created_at",
        "updated_at",
    )
    return JsonResponse({"count": queryset.count(), "results": list(queryset.values(*fields)[:50])})


@require_GET
def summary(request, pk: int):
    user = _user(request)
    budget = Budget.objects.visible_to(user).get(pk=pk)
    start, end = budget.period_bounds(date.fromisoformat(request.GET["date"]))
    by_category = list(
        Transaction.objects.filter(budget=budget, date__gte=start, date__lte=end)
        .order_by()
        .values("category_id")
        .annotate(
            spent=Sum("amount_minor", filter=Q(kind="expense")),
            income=Sum("amount_minor", filter=Q(kind="income")),
        )
    )
    totals = {
        "spent": sum(row["spent"] or 0 for row in by_category),
        "income": sum(row["income"] or 0 for row in by_category),
    }
    categories = list(budget.categories.order_by("name", "id").values("id", "name", "allocated_minor"))
    spent = {row["category_id"]: row["spent"] for row in by_category}
    for category in categories:
        category["spent"] = spent.get(category["id"]) or 0
    return JsonResponse({"period_start": start, "period_end": end, **totals, "by_category": categories})


@require_GET
def report(request, pk: int):
    """The monthly report's floor: the same selector, no DRF."""
    budget = Budget.objects.visible_to(_user(request)).get(pk=pk)
    first, last = (date.fromisoformat(request.GET[name] + "-01") for name in ("from", "to"))
    return JsonResponse(budget_monthly_report(budget=budget, first_month=first, last_month=last))


@csrf_exempt
@require_POST
def create_transaction(request):
    user = _user(request)
    data = json.loads(request.body)
    budget = Budget.objects.visible_to(user, "change").get(pk=int(data["budget"]))
    tx = Transaction.objects.create(
        budget=budget,
        created_by=user,
        kind=data["kind"],
        amount_minor=int(data["amount_minor"]),
        date=data["date"],
        payee=data.get("payee", ""),
    )
    if tx.pk is None:  # pragma: no cover
        return HttpResponseBadRequest()
    return JsonResponse(Transaction.objects.filter(pk=tx.pk).values(*TX_FIELDS)[0], status=201)


def _household_sums(user, pk: int) -> tuple[list, list] | None:
    """The balances' and debts' two aggregates, for a household the user belongs to."""
    from households.models import Household
    from transactions.models import Settlement, SplitShare

    if not Household.objects.visible_to(user).filter(pk=pk).exists():
        return None
    shares = list(
        SplitShare.objects.filter(household_id=pk)
        .values("currency", "user_id", "payer_id")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    settlements = list(
        Settlement.objects.filter(household_id=pk)
        .values("currency", "from_user_id", "to_user_id")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    return shares, settlements


@require_GET
def household_balances(request, pk: int):
    """The balances' and debts' floor: their aggregates, as they come out of the database."""
    sums = _household_sums(_user(request), pk)
    if sums is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse({"shares": sums[0], "settlements": sums[1]})
