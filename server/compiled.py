"""Queries the ORM compiles once per process and runs many times with new values.

Building and compiling a queryset costs the API more than PostgreSQL takes to run the
small queries every request makes (the caller's user row, the caller's visible budgets):
0.3 to 1 ms of Python each, on every request. For a query whose shape never changes,
only its values, ``compiled_sql`` builds it once with placeholder values, keeps the SQL
and where each placeholder landed among the parameters, and from then on returns that SQL
with the request's values in their places. Values always travel as parameters, never in
the SQL text (which, being identical each time, PostgreSQL also prepares once per
connection: DATABASE_PREPARE_THRESHOLD in server/settings.py).
"""

from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet
from django.db.models.signals import post_migrate

# Never a real id or value of this API: it marks where a value goes in the parameters.
_PLACEHOLDER = -7_700_000_000_000_000

_compiled: dict[tuple, tuple[str, tuple, tuple]] = {}


def forget_compiled(**kwargs) -> None:
    """After a migrate or a flush (which recreates the permissions, under new ids in a test
    database), nothing compiled before is kept: a compiled query may carry such an id as a
    constant (a permission's, in the budgets' scope), whether or not its key names it."""
    _compiled.clear()


post_migrate.connect(forget_compiled, dispatch_uid="server.compiled.forget_compiled")


def compiled_sql(
    key: tuple, build: Callable[..., QuerySet], *values, using: str = "default"
) -> tuple[str, tuple]:
    """``build(*placeholders)`` returns the queryset, built from its arguments alone (the
    placeholders stand for ``values``, which are ids or other integers compared as they
    are); ``key`` names that shape and whatever else the build depends on. The SQL and
    parameters of ``build(*values)``, compiled once. A value the compiled query does not
    carry as it was given (unused, or turned into text by a text column) is refused."""
    vendor = connections[using].vendor
    entry = _compiled.get((vendor, key))
    if entry is None:
        placeholders = [_PLACEHOLDER - n for n in range(len(values))]
        sql, params = build(*placeholders).query.sql_with_params()
        slots = tuple(_slot(param, placeholders) for param in params)
        missing = set(range(len(values))) - {slot for slot, _kind in slots if slot is not None}
        if missing:
            raise ValueError(
                f"{key}: the query does not use value(s) {sorted(missing)}; it cannot be reused."
            )
        entry = _compiled[(vendor, key)] = (sql, tuple(params), slots)
    sql, params, slots = entry
    return sql, tuple(
        param if slot is None else values[slot] if kind is int else kind(values[slot])
        for param, (slot, kind) in zip(params, slots, strict=True)
    )


def _slot(param, placeholders: list[int]) -> tuple[int | None, type]:
    """Where a parameter's value comes from (None: it is the query's own) and its type: a
    plain int (the value goes in as it is given: an int, or a list for an array), or the
    driver's typed one (psycopg's Int8, for a bigint column's lookup), which the value is
    given as well."""
    if isinstance(param, int) and not isinstance(param, bool) and param in placeholders:
        return placeholders.index(param), type(param)
    return None, type(param)
