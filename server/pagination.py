import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

_DIGITS = re.compile(r"[0-9]+")
# Any limit or offset with more digits is past every row: read it as this, without parsing
# thousands of digits (Python refuses int() of a string over 4300 digits).
_SATURATED = 10**18

# What a bad limit or offset is answered with (documented by server.openapi.AutoSchema).
PAGINATION_ERROR_CODES = ("invalid", "min_value")


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """limit/offset everywhere: default 50, at most 500; a larger limit is clamped.

    DRF ignores a limit or offset it cannot read (``limit=abc``, ``limit=1.5``, ``offset=-3``)
    and serves the default page instead; here that is a 400 naming the parameter, as the
    schema says (integers, limit >= 1, offset >= 0). An empty value is a parameter left out.
    """

    default_limit = 50
    max_limit = 500

    def get_limit(self, request):
        limit = self._read(request, self.limit_query_param, minimum=1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        offset = self._read(request, self.offset_query_param, minimum=0)
        return 0 if offset is None else offset

    @staticmethod
    def _read(request, name: str, *, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None  # left out, as django-filter reads an empty filter
        if not _DIGITS.fullmatch(raw):
            raise ValidationError({name: ["A whole number is required."]}, code="invalid")
        digits = raw.lstrip("0") or "0"
        value = int(digits) if len(digits) <= 18 else _SATURATED
        if value < minimum:
            raise ValidationError(
                {name: [f"Ensure this value is greater than or equal to {minimum}."]}, code="min_value"
            )
        return value

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Number of results to return per page: default {self.default_limit}; "
                    f"a limit above {self.max_limit} is served as {self.max_limit}."
                )
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"]["minimum"] = 0
        return parameters
