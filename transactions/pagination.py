"""Pagination for the transaction list: exact page rows without sorting every visible row.

On PostgreSQL the page's ids come from a per-budget top-N: for each visible budget, the
first offset+limit rows in the requested order straight off its (budget, <order>, id)
index, merged and cut to the page (UNION ALL of LIMITed index scans — what a LATERAL
join would do). A 50,000-row budget then costs 50 index entries, not a full sort.
SQLite, unusual orderings and callers with very many budgets use the plain query.
"""

from django.db import connections

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
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:  # pragma: no cover - a default limit is always set
            return None
        self.offset = self.get_offset(request)
        self.count = self.get_count(queryset)
        if self.count == 0 or self.offset > self.count:
            return []
        return list(self.page(queryset))

    def page(self, queryset):
        budget_ids = getattr(queryset, "budget_ids", None)
        order = _top_n_order(queryset)
        vendor = connections[queryset.db].vendor
        if vendor != "postgresql" or order is None or not 1 < len(budget_ids or ()) <= MAX_BUDGETS_FOR_TOP_N:
            return queryset[self.offset : self.offset + self.limit]
        depth = self.offset + self.limit
        order_field = order[0].lstrip("-")
        parts = [
            queryset.filter(budget_id=pk).order_by(*order).values_list("id", order_field)[:depth]
            for pk in sorted(budget_ids)
        ]
        merged = parts[0].union(*parts[1:], all=True).order_by(*order)
        page_ids = [row[0] for row in merged[self.offset : self.offset + self.limit]]
        rows = {row.pk: row for row in queryset.filter(pk__in=page_ids).order_by()}
        return [rows[pk] for pk in page_ids]
