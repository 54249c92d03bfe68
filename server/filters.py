import django_filters


class StableOrderingFilter(django_filters.OrderingFilter):
    """OrderingFilter that breaks ties by id, so pages never overlap or skip rows."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            last = value[-1]
            qs = qs.order_by(*qs.query.order_by, "-id" if last.startswith("-") else "id")
        return qs
