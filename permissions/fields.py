"""Related fields and filters that resolve ids only among rows visible to the caller.

A foreign id reads exactly like an unknown id: the same 400 "does_not_exist" for a
serializer field, the same "invalid_choice" for a filter.
"""

import django_filters
from rest_framework import serializers

from permissions.scoping import VIEW, visible


def _request_user(context_or_request):
    request = (
        context_or_request.get("request") if isinstance(context_or_request, dict) else context_or_request
    )
    return getattr(request, "user", None)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """``ScopedPrimaryKeyRelatedField(queryset=Category.objects)``: the queryset names
    the model; the rows come from ``visible_to(request.user, scope_action)``."""

    default_error_messages = {
        "does_not_exist": 'Invalid pk "{pk_value}" - object does not exist.',
    }

    def __init__(self, *, scope_action: str = VIEW, **kwargs):
        self.scope_action = scope_action
        super().__init__(**kwargs)

    def get_queryset(self):
        return visible(self.queryset.model, _request_user(self.context), self.scope_action)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class ScopedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A django-filter id filter scoped like ScopedPrimaryKeyRelatedField."""

    def __init__(self, *, model, scope_action: str = VIEW, **kwargs):
        self.scoped_model = model
        self.scope_action = scope_action
        kwargs["queryset"] = self._scoped
        super().__init__(**kwargs)

    def _scoped(self, request):
        return visible(self.scoped_model, _request_user(request), self.scope_action)
