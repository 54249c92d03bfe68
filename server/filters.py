import django_filters
from django_filters.rest_framework import DjangoFilterBackend


class StableOrderingFilter(django_filters.OrderingFilter):
    """OrderingFilter that breaks ties by id, so pages never overlap or skip rows."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            last = value[-1]
            qs = qs.order_by(*qs.query.order_by, "-id" if last.startswith("-") else "id")
        return qs


# Query parameters that never reach a filterset: pagination reads them itself.
PAGINATION_PARAMS = frozenset({"limit", "offset"})


class FilterBackend(DjangoFilterBackend):
    """django-filter, not run for a request that sends nothing but pagination parameters:
    the filterset's form (one field per filter) costs about a millisecond to build and
    then filters nothing. Any other parameter, known or not, runs it as usual."""

    def filter_queryset(self, request, queryset, view):
        if request.query_params.keys() <= PAGINATION_PARAMS:
            return queryset
        return super().filter_queryset(request, queryset, view)
