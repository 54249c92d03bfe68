"""Related fields and filters that resolve ids only among rows visible to the caller.

A foreign id reads exactly like an unknown id: the same 400 "does_not_exist" for a
serializer field, the same "invalid_choice" for a filter.
"""

import copy

import django_filters
from django.core.exceptions import ValidationError
from rest_framework import serializers

from permissions.scoping import VIEW, scoped_row, visible
from server.fields import is_whole_number


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
        # The answers of DRF's queryset.get(pk=data): not an integer -> incorrect_type;
        # any integer that is not among the visible rows -> does_not_exist.
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        preloaded = self.context.get("scoped_rows", {}).get(self.queryset.model)
        if preloaded is not None:
            row = preloaded.get(pk)
        else:
            user = _request_user(self.context)
            row = scoped_row(self.queryset.model, user, pk, self.scope_action) if pk in PK_RANGE else None
        if row is None:
            self.fail("does_not_exist", pk_value=data)
        return row


# No primary key lies outside a signed 64-bit integer; SQLite refuses to bind one.
PK_RANGE = range(-(2**63), 2**63)


def _as_pk(value) -> int | None:
    """The integer a database lookup would read ``value`` as (" 7 ", "+7", "007" -> 7),
    or None if it is not one or cannot name a row."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        pk = int(value)
    except ValueError:
        return None
    return pk if pk in PK_RANGE else None


def preload_scoped(model, user, ids, *, scope_action: str = VIEW, select_related=()) -> dict:
    """Rows of ``model`` visible to ``user`` among ``ids``, by pk, in one query: lets a
    serializer with many items resolve ScopedPrimaryKeyRelatedFields without a query
    per item (pass ``{"scoped_rows": {model: rows}}`` in its context). Plain integers (most of
    a bulk/ body's 1,000 ids, a few distinct) are taken as they are; anything else is read as
    a lookup would read it (_as_pk)."""
    ints = {value for value in ids if type(value) is int}  # not bool: True is not the id 1
    others = [value for value in ids if type(value) is not int]
    pks = {pk for pk in ints if pk in PK_RANGE} | {pk for pk in map(_as_pk, others) if pk is not None}
    if not pks:
        return {}
    rows = visible(model, user, scope_action).filter(pk__in=pks).select_related(*select_related)
    return {row.pk: row for row in rows}


class ScopedModelChoiceField(django_filters.fields.ModelChoiceField):
    """The filter's form field: looks the id up with scoped_row (compiled once where it can
    be), with the answers of Django's ModelChoiceField, whose queryset.get it replaces. An id
    is written as the schema's integer: " 7" or "+7" names no row (server.fields)."""

    def __init__(self, *, scoped=None, **kwargs):
        self.scoped = scoped  # (model, user, action)
        super().__init__(**kwargs)

    def bind_caller(self, request) -> None:
        """Looks ids up for this request's caller: called on a form's own copy of the field,
        made from a form class every request shares (server.filters.FilterSet)."""
        model, _nobody, action = self.scoped
        self.scoped = (model, _request_user(request), action)

    def to_python(self, value):
        if self.scoped is None or value in self.empty_values:
            return super().to_python(value)
        self.validate_no_null_characters(value)
        model, user, action = self.scoped
        pk = _as_pk(value) if is_whole_number(value) else None
        row = None if pk is None else scoped_row(model, user, pk, action)
        if row is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return row


class ScopedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A django-filter id filter scoped like ScopedPrimaryKeyRelatedField."""

    field_class = ScopedModelChoiceField

    def __init__(self, *, model, scope_action: str = VIEW, **kwargs):
        self.scoped_model = model
        self.scope_action = scope_action
        kwargs["queryset"] = self._scoped
        super().__init__(**kwargs)

    @property
    def field(self):
        if not hasattr(self, "_field"):
            user = _request_user(self.get_request())
            self.extra["scoped"] = (self.scoped_model, user, self.scope_action)
        return super().field

    def shared_field(self) -> ScopedModelChoiceField:
        """The field for a form class that every request shares: no caller and no rows, so
        that a form which was not given its caller (bind_caller) finds no id at all."""
        callerless = copy.deepcopy(self)
        callerless.queryset = self.scoped_model._default_manager.none()
        return callerless.field

    def _scoped(self, request):
        data = getattr(getattr(self, "parent", None), "data", None)
        if data is not None and data.get(self._param_name()) in (None, ""):
            # Left out (or empty, which reads the same): the field never looks a value up,
            # so building the scoped query on every list request is saved.
            return self.scoped_model._default_manager.none()
        return visible(self.scoped_model, _request_user(request), self.scope_action)

    def _param_name(self) -> str:
        return next(name for name, candidate in self.parent.filters.items() if candidate is self)
