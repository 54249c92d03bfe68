"""Pagination for the transaction list: exact page rows without sorting every visible row.

On PostgreSQL the page's ids come from a per-budget top-N: for each visible budget, the
first offset+limit rows in the requested order straight off its (budget, <order>, id)
index, merged and cut to the page (UNION ALL of LIMITed index scans — what a LATERAL
join would do). A 50,000-row budget then costs 50 index entries, not a full sort.
SQLite, unusual orderings and callers with very many budgets use the plain query.
"""

from django.db import connections
from django.db.models import Count

from server.pagination import LimitOffsetPagination

# Orderings whose per-budget index exists: ("-date", "-id") etc. (see Transaction.Meta.indexes).
INDEXED_ORDER_FIELDS = {"date", "amount_minor", "created_at"}
MAX_BUDGETS_FOR_TOP_N = 200


def _top_n_order(queryset) -> tuple[str, ...] | None:
    order = tuple(queryset.query.order_by) or tuple(queryset.model._meta.ordering)
    if len(order) != 2 or order[1].lstrip("-") != "id":
        return None
    first, second = order
    if first.lstrip("-") not in INDEXED_ORDER_FIELDS or first.startswith("-") != second.startswith("-"):
        return None
    return order


class TransactionPagination(LimitOffsetPagination):
    """Three queries: matching rows per visible budget (which gives the count and the
    budgets worth reading), the page's ids, the page's rows."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        per_budget = dict(queryset.order_by().values_list("budget_id").annotate(rows=Count("id")))
        self.count = sum(per_budget.values())
        if self.count == 0 or self.offset >= self.count:
            return []
        return list(self.page(queryset, per_budget))

    def page(self, queryset, per_budget: dict[int, int]):
        order = _top_n_order(queryset)
        vendor = connections[queryset.db].vendor
        budgets = sorted(per_budget)
        if len(budgets) == 1:
            # One budget: its (budget, order, id) index gives the page directly.
            return queryset.filter(budget_id=budgets[0])[self.offset : self.offset + self.limit]
        if vendor != "postgresql" or order is None or len(budgets) > MAX_BUDGETS_FOR_TOP_N:
            return queryset[self.offset : self.offset + self.limit]
        depth = self.offset + self.limit
        order_field = order[0].lstrip("-")
        parts = [
            queryset.filter(budget_id=pk)
            .order_by(*order)
            .values_list("id", order_field)[: min(depth, per_budget[pk])]
            for pk in budgets
        ]
        merged = parts[0].union(*parts[1:], all=True).order_by(*order)
        page_ids = [row[0] for row in merged[self.offset : self.offset + self.limit]]
        rows = {row.pk: row for row in queryset.filter(pk__in=page_ids).order_by()}
        return [rows[pk] for pk in page_ids]
