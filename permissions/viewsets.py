"""The base viewset every tenant endpoint derives from.

Rows come only from ``Model.objects.visible_to(request.user, action)``. Subclasses
cannot override ``get_queryset`` or ``get_object`` (checked at import time, as
PostHog does). Code that must read rows outside the caller's scope says so with
``permissions.scoping.dangerously_unscoped(model, reason=...)``, easy to grep.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from rest_framework import viewsets
from rest_framework.exceptions import NotFound

from permissions.classes import IsOwner, IsShared
from permissions.scoping import VIEW, visible

_PROTECTED = ("get_queryset", "get_object", "get_row")

# DRF action -> tenant action asked of visible_to for the permission check.
DEFAULT_ACTIONS = {
    "list": VIEW,
    "retrieve": VIEW,
    "create": "change",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


class TenantViewSet(viewsets.GenericViewSet):
    """Subclasses set ``model`` and may set ``scope_actions`` (DRF action -> tenant
    action), or pass ``scope_action=`` to ``@action``. ``with_related(queryset)``
    adds joins and annotations to the already scoped queryset."""

    model = None
    # Optional: read_row(user, pk) -> the row ``pk`` as plain values if ``user`` may view it
    # (read through the model's visible_to), else None; get_row() serves it to a retrieve.
    read_row = None
    scope_actions: dict[str, str] = {}
    scope_action: str | None = None  # set per @action through its kwargs
    permission_classes = [IsOwner | IsShared]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _PROTECTED:
            # Whoever supplies it (the class itself, a parent or a mixin ahead of
            # TenantViewSet in the MRO), it must be TenantViewSet's own.
            if next(klass for klass in cls.__mro__ if name in vars(klass)) is not TenantViewSet:
                raise TypeError(
                    f"{cls.__module__}.{cls.__name__} overrides {name}(); tenant viewsets get rows only "
                    "through visible_to(). Use with_related() for joins."
                )

    def scope_action_for_request(self) -> str:
        if self.scope_action:
            return self.scope_action
        return {**DEFAULT_ACTIONS, **self.scope_actions}.get(self.action, VIEW)

    def with_related(self, queryset):
        return queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation has no caller: the model, and no rows.
            return self.model._default_manager.none()
        # Lists are scoped to the action; detail lookups use "view" so that an object
        # the caller can see but not change is a 403 (from the permission classes),
        # and one they cannot see is a 404 identical to a missing id.
        action = VIEW if self.detail else self.scope_action_for_request()
        return self.with_related(visible(self.model, self.request.user, action))

    def get_object(self):
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs[lookup_url_kwarg]
        try:
            obj = get_object_or_404(self.get_queryset(), **{self.lookup_field: value})
        except (TypeError, ValueError, ValidationError):
            raise NotFound() from None
        self.check_object_permissions(self.request, obj)
        return obj

    def get_row(self):
        """get_object() for a read-only answer (a retrieve) as the viewset's plain values
        (``read_row``): the same 404 for an object the caller cannot see as for a missing
        or malformed id, then the same object permission checks."""
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise NotFound() from None
        row = type(self).read_row(self.request.user, pk)
        if row is None:
            raise NotFound()
        self.check_object_permissions(self.request, row)
        return row
