from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """limit/offset everywhere: default 50, at most 500; a larger limit is clamped."""

    default_limit = 50
    max_limit = 500
