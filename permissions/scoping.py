"""The one way a request reaches tenant rows: ``Model.objects.visible_to(user, action)``.

Every tenant model's queryset implements ``visible_to(user, action)``; it returns the
rows on which ``user`` may perform ``action`` ("view", "change", "delete", ...) and
nothing else, for anonymous, inactive and superusers alike. Model-wide permissions
(``user.has_perm("budgets.view_budget")``) and ``is_superuser`` never widen it.
"""

from django.db import models
from rest_framework.exceptions import PermissionDenied

VIEW = "view"


def visible(model: type[models.Model], user, action: str = VIEW) -> models.QuerySet:
    manager = model._default_manager
    if not hasattr(manager, "visible_to"):
        raise TypeError(f"{model.__name__} has no visible_to(user, action); it cannot be served to tenants.")
    return manager.visible_to(user, action)


def allows(user, obj: models.Model, action: str) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj``, asked through the same path."""
    owned_by = getattr(obj, "owned_by", None)
    if owned_by is not None and owned_by(user):
        return True
    return visible(type(obj), user, action).filter(pk=obj.pk).exists()


def require(user, obj: models.Model, action: str, message: str | None = None) -> None:
    """403 unless ``user`` may perform ``action`` on ``obj`` (which they can already see)."""
    if not allows(user, obj, action):
        raise PermissionDenied(
            message or f"You do not have permission to {action} this {obj._meta.verbose_name}."
        )
