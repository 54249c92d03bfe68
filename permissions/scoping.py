"""The one way a request reaches tenant rows: ``Model.objects.visible_to(user, action)``.

Every tenant model's queryset implements ``visible_to(user, action)``; it returns the
rows on which ``user`` may perform ``action`` ("view", "change", "delete", ...) and
nothing else, for anonymous, inactive and superusers alike. Model-wide permissions
(``user.has_perm("budgets.view_budget")``) and ``is_superuser`` never widen it.
"""

from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import connections, models
from rest_framework.exceptions import APIException, NotFound, PermissionDenied

from server.compiled import compiled_instance, compiled_sql, pk_among

VIEW = "view"


def is_active_user(user) -> bool:
    """Signed in with an active account: the only callers who may see any tenant row."""
    return bool(user and user.is_authenticated and user.is_active)


def owns(user, obj) -> bool:
    """The owner's short-cut: ``obj.owned_by(user)`` where the model has an owner."""
    owned_by = getattr(obj, "owned_by", None)
    return bool(owned_by is not None and owned_by(user))


def visible(model: type[models.Model], user, action: str = VIEW) -> models.QuerySet:
    manager = model._default_manager
    if not hasattr(manager, "visible_to"):
        raise TypeError(f"{model.__name__} has no visible_to(user, action); it cannot be served to tenants.")
    return manager.visible_to(user, action)


def caller(user_id: int):
    """A stand-in for the caller in a compiled builder (server/compiled.py): an active user
    with this id, so the query goes through the one scoping path (visible_to) with the id
    as its value. Whoever runs the SQL has checked that the real caller is active."""
    return get_user_model()(pk=user_id, is_active=True)


def scoped_row(model: type[models.Model], user, pk: int, action: str = VIEW) -> models.Model | None:
    """``visible(model, user, action)``'s row ``pk``, or None: the lookup behind a scoped id
    field or filter. On PostgreSQL, for a model whose queryset declares that its scope reads
    nothing of the caller but the id (``scope_reads_caller_id_only``), its SQL is built
    through visible_to once per process (with a stand-in caller) and reused; building and
    compiling it cost more than the query (about 0.4 ms a request)."""
    if not is_active_user(user):
        return None
    manager = model._default_manager
    if not _compiles(model):
        return next(iter(visible(model, user, action).filter(pk=pk)), None)
    return compiled_instance(
        ("scoped-row", model._meta.label, action),
        model,
        lambda user_id, row_id: visible(model, caller(user_id), action).filter(pk=row_id),
        user.pk,
        pk,
        using=manager.db,
    )


def visible_among(model: type[models.Model], user, pks: list[int], action: str = VIEW) -> set[int]:
    """Which of ``pks`` ``visible(model, user, action)`` holds, in one query; compiled once as
    scoped_row's is, where the model's scope allows it."""
    if not is_active_user(user):
        return set()
    manager = model._default_manager
    statement = visible_among_sql(model, user, pks, action)
    if statement is None:
        return set(visible(model, user, action).filter(pk__in=pks).values_list("pk", flat=True))
    with connections[manager.db].cursor() as cursor:
        cursor.execute(*statement)
        return {row[0] for row in cursor.fetchall()}


def visible_among_sql(model: type[models.Model], user, pks: list[int], action: str = VIEW) -> tuple | None:
    """visible_among's one statement (SQL and parameters; its rows are the visible pks), for
    a caller that sends it beside another; None where visible_among asks otherwise (an
    inactive caller, SQLite, a scope that cannot be compiled)."""
    manager = model._default_manager
    if not is_active_user(user) or not _compiles(model) or connections[manager.db].vendor != "postgresql":
        return None

    among, lookup = pk_among(list(pks))

    def build(user_id, ids):
        return visible(model, caller(user_id), action).filter(**lookup(ids)).order_by().values_list("pk")

    key = ("visible-among", model._meta.label, action, lookup)
    return compiled_sql(key, build, user.pk, among, using=manager.db)


def _compiles(model: type[models.Model]) -> bool:
    """Whether the model's scope reads nothing of the caller but the id (its queryset says
    ``scope_reads_caller_id_only``), so that its SQL can be compiled with a stand-in."""
    return getattr(model._default_manager.get_queryset(), "scope_reads_caller_id_only", False)


def allows(user, obj: models.Model, action: str) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj``, asked through the same path."""
    return owns(user, obj) or visible(type(obj), user, action).filter(pk=obj.pk).exists()


def dangerously_unscoped(model: type[models.Model], *, reason: str) -> models.QuerySet:
    """Every row of ``model``, outside any caller's scope. The one way code that acts for a
    user reads rows unscoped, named so a reviewer can grep it, with the reason it is safe
    (say, rows looked up by ids that a scoped query produced, or rows locked before the
    caller's right is checked under the lock)."""
    if not reason:
        raise ValueError("Say why an unscoped read is safe.")
    return model._default_manager.all()


def require(user, obj: models.Model, action: str, message: str | None = None) -> None:
    """403 unless ``user`` may perform ``action`` on ``obj`` (which they can already see)."""
    if not allows(user, obj, action):
        raise PermissionDenied(
            message or f"You do not have permission to {action} this {obj._meta.verbose_name}."
        )


def require_all(
    user,
    objs: Iterable[models.Model],
    action: str,
    *,
    message: Callable[[models.Model], str],
    missing: Callable[[models.Model], APIException] = lambda obj: NotFound(),
    allowed: set[int] | None = None,
) -> None:
    """require() for many objects of one model at once, in one query (two on refusal).

    For a check repeated under a lock, when the caller may have lost access since the
    object was looked up: the first object (in the given order) the caller may not
    ``action`` is a 403 with ``message(obj)`` if they can still view it, otherwise
    ``missing(obj)``, which answers as if the object did not exist.

    ``allowed``: visible_among(model, user, pks, action) of these objects (or more), read
    by the caller after their lock was taken (budgets/services/locks.py sends it with the
    lock); read here otherwise."""
    objs = list(objs)
    others = [obj for obj in objs if not owns(user, obj)]
    if not others:
        return
    model = type(others[0])
    if allowed is None:
        allowed = visible_among(model, user, [obj.pk for obj in others], action)
    refused = next((obj for obj in others if obj.pk not in allowed), None)
    if refused is None:
        return
    if action != VIEW and visible(model, user, VIEW).filter(pk=refused.pk).exists():
        raise PermissionDenied(message(refused))
    raise missing(refused)
