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

import datetime
from collections.abc import Callable

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_migrate

# Never a real id or value of this API: they mark where a value goes in the parameters. An
# int stands for an int (or a list, for an array), a date for a date, a text for a text.
_PLACEHOLDER = -7_700_000_000_000_000
_PLACEHOLDER_DATE = datetime.date(1, 1, 1)


def _placeholder(value, n: int):
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return _PLACEHOLDER_DATE + datetime.timedelta(days=n)
    if isinstance(value, str):
        return f"\x00compiled value {n}"  # a NUL: no text this API stores or is sent holds one
    return _PLACEHOLDER - n


_compiled: dict[tuple, tuple[str, tuple, tuple]] = {}


def forget_compiled(**kwargs) -> None:
    """After a migrate or a flush (which recreates the permissions, under new ids in a test
    database), nothing compiled before is kept: a compiled query may carry such an id as a
    constant (a permission's, in the budgets' scope), whether or not its key names it."""
    _compiled.clear()


post_migrate.connect(forget_compiled, dispatch_uid="server.compiled.forget_compiled")


def compiled_sql(
    key: tuple, build: Callable[..., "QuerySet | tuple[str, tuple]"], *values, using: str = "default"
) -> tuple[str, tuple]:
    """``build(*placeholders)`` returns the queryset (or its SQL and parameters), built from
    its arguments alone: the placeholders stand for ``values``, which are ids or other
    integers (or None, sent as NULL), dates or texts compared as they are; ``key`` names
    that shape and whatever else the build depends on. The SQL and parameters of
    ``build(*values)``, compiled once. A value the compiled query does not carry as it was
    given (unused, or turned into another type or text, as a LIKE pattern does) is refused."""
    vendor = connections[using].vendor
    entry = _compiled.get((vendor, key))
    if entry is None:
        placeholders = [_placeholder(value, n) for n, value in enumerate(values)]
        built = build(*placeholders)
        sql, params = built if isinstance(built, tuple) else built.query.sql_with_params()
        where = {placeholder: n for n, placeholder in enumerate(placeholders)}
        # SQLite's backend passes a date as its ISO text.
        where.update((p.isoformat(), n) for n, p in enumerate(placeholders) if isinstance(p, datetime.date))
        slots = tuple(_slot(param, where, placeholders) for param in params)
        missing = set(range(len(values))) - {slot for slot, _kind in slots if slot is not None}
        if missing:
            raise ValueError(
                f"{key}: the query does not use value(s) {sorted(missing)}; it cannot be reused."
            )
        entry = _compiled[(vendor, key)] = (sql, tuple(params), slots)
    sql, params, slots = entry
    # A None value is a NULL whatever its slot's type (an amount bound no row reaches).
    return sql, tuple(
        param
        if slot is None
        else values[slot]
        if kind is None or values[slot] is None
        else kind(values[slot])
        for param, (slot, kind) in zip(params, slots, strict=True)
    )


def compiled_instance(
    key: tuple, model: type[Model], build: Callable[..., QuerySet], *values, using: str = "default"
) -> Model | None:
    """The row of ``build(*values)`` (a queryset of ``model``, at most one row) as a model
    instance, or None (compiled_instances)."""
    rows = compiled_instances(key, model, build, *values, using=using)
    return rows[0] if rows else None


def compiled_instances(
    key: tuple, model: type[Model], build: Callable[..., QuerySet], *values, using: str = "default"
) -> list[Model]:
    """The rows of ``build(*values)`` (a queryset of ``model``) as model instances. On
    PostgreSQL its SQL is compiled_sql's and the instances are made from the rows directly:
    the ORM's iteration (or a raw query's) costs more than the query. Elsewhere the
    queryset is built and read as usual (SQLite's values need the ORM's converters: its
    datetimes, their time zone)."""
    if connections[using].vendor != "postgresql":
        return list(build(*values).using(using))
    columns = [field.attname for field in model._meta.concrete_fields]

    def rows(*placeholders):
        return build(*placeholders).values_list(*columns)

    sql, params = compiled_sql(key, rows, *values, using=using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return [model.from_db(using, columns, row) for row in cursor.fetchall()]


def array_text(values) -> str:
    """Integers (or booleans) as one PostgreSQL array parameter in its text form, for SQL
    that casts it (``%s::bigint[]``). psycopg dumps a list element by element: 2,000 ids
    took 1.7 ms a statement that way and 0.5 ms as this text (an adviser's page sends
    up to three such arrays)."""
    return "{" + ",".join(map(str, values)) + "}"


def id_array(ids, using: str = "default"):
    """``pk__in=id_array(ids)``: on PostgreSQL the ids as one array parameter (one statement
    for any number of them, which compiled_sql can reuse), elsewhere the list itself."""
    if connections[using].vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", (ids,))


def _slot(param, where: dict, placeholders: list) -> tuple[int | None, type | None]:
    """Where a parameter's value comes from (None: it is the query's own) and how it is
    passed: as it is given (None), as the driver's typed int that an int placeholder
    became (psycopg's Int8, for a bigint column's lookup), or a date as its ISO text."""
    if isinstance(param, bool) or not isinstance(param, int | str | datetime.date):
        return None, None
    slot = where.get(param)
    if slot is None:
        return None, None
    placeholder = placeholders[slot]
    if type(param) is type(placeholder):
        return slot, None
    if isinstance(param, int) and isinstance(placeholder, int):
        return slot, type(param)
    if isinstance(param, str) and isinstance(placeholder, datetime.date):
        return slot, str
    return None, None


def pk_among(ids: list) -> tuple[object, Callable[[object], dict]]:
    """The value and the lookup of "pk among ``ids``" for a compiled builder:
    ``value, lookup = pk_among(ids)``, then ``compiled_sql((..., lookup), build, value)``
    with ``build(v)`` filtering on ``**lookup(v)`` (the lookup is a plain function: it can
    be part of the key). One id is ``pk = %s``; more (or none) are ``pk__in=id_array``. A
    prepared statement whose ids are an array is planned again on every run: its generic
    plan counts an array parameter as ten rows, a custom plan the one id it holds, so
    PostgreSQL never settles on the generic plan (0.2 to 0.3 ms of planning for a write's
    budget lock, and as much for the right read after it, each time)."""
    if len(ids) == 1:
        return ids[0], _pk_is
    return list(ids), _pk_in_array


def _pk_is(value) -> dict:
    return {"pk": value}


def _pk_in_array(value) -> dict:
    return {"pk__in": id_array(value)}
