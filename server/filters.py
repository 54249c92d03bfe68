import copy
import functools

import django_filters
from django import forms
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, ValidationError

from server.fields import invalid_choice_message, is_whole_number


class StableOrderingFilter(django_filters.OrderingFilter):
    """OrderingFilter that breaks ties by id, so pages never overlap or skip rows."""

    def filter(self, qs, value):
        order = self.order_of(value)
        return qs.order_by(*order) if order else qs

    def order_of(self, value) -> tuple[str, ...]:
        """The order_by of the field's cleaned ``value``, ties broken by id; () when it names
        no field (the queryset keeps its own order)."""
        ordering = [self.get_ordering_value(param) for param in value or () if param not in EMPTY_VALUES]
        if not ordering:
            return ()
        return (*ordering, "-id" if ordering[-1].startswith("-") else "id")


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet with its form class made once per filterset class, not once
    per request (a class and a field per filter: about 0.3 ms of a filtered list). A field
    that looks ids up for the caller is made without one, and with no rows
    (permissions.fields.ScopedModelChoiceFilter.shared_field); each request's form, which
    holds its own copies of the fields, gives them the request's caller."""

    @classmethod
    def shared_form_class(cls) -> type[forms.Form]:
        form_class = cls.__dict__.get("_shared_form_class")
        if form_class is None:
            fields = {}
            for name, filter_ in cls.base_filters.items():
                shared_field = getattr(filter_, "shared_field", None)
                if shared_field is None:
                    filter_ = copy.deepcopy(filter_)
                    if cls._meta.model is not None:  # as FilterSet.__init__ gives it (labels)
                        filter_.model = cls._meta.model
                    fields[name] = filter_.field
                else:
                    fields[name] = shared_field()
            form_class = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
            cls._shared_form_class = form_class
        return form_class

    def get_form_class(self):
        return self.shared_form_class()

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            for field in form.fields.values():
                bind_caller = getattr(field, "bind_caller", None)
                if bind_caller is not None:
                    bind_caller(self.request)
        return self._form


class WholeNumberFormField(forms.IntegerField):
    """Django's IntegerField, without its "1.0" and " 1" (server/fields.WholeNumberField)."""

    def to_python(self, value):
        if value not in self.empty_values and not is_whole_number(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IdChoiceField(django_filters.fields.ModelChoiceField):
    """Django's ModelChoiceField for an id written as the schema's integer: " 7" or "+7" is
    not a choice, though the database would read it as 7."""

    def to_python(self, value):
        if value in self.empty_values:
            return super().to_python(value)
        self.validate_no_null_characters(value)
        if not is_whole_number(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return super().to_python(value)


class IdChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = IdChoiceField


# Query parameters that never reach a filterset: pagination reads them itself (cursor: the
# transaction list's, transactions/pagination.py; other lists ignore it).
PAGINATION_PARAMS = frozenset({"limit", "offset", "cursor"})


class FilterBackend(DjangoFilterBackend):
    """django-filter, not run for a request that sends only pagination parameters: the
    filterset's form (one field per filter) costs about a millisecond to build and then
    filters nothing. Any other parameter, known or not, runs it as usual, with only the
    filters the request names (a filter left out filters nothing and cannot be invalid):
    a subclass of the filterset holding just those, made once per set of names, so that
    neither the filters nor the form's fields of the others are copied for each request.
    A value outside a filter's choices is refused with the valid ones listed
    (filter_errors)."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.validated_filterset(request, queryset, view)
        return queryset if filterset is None else filterset.qs

    def filter_later(self, request, view) -> "FilteredLater":
        """The request's filters validated now (a bad value answers 400 before anything is
        read), the view's queryset built and filtered only when read (FilteredLater)."""
        # The filterset is given no rows: only FilteredLater.queryset filters, and it filters
        # the view's own scoped queryset.
        filterset = self.validated_filterset(request, view.model._default_manager.none(), view)
        return FilteredLater(view, filterset)

    def validated_filterset(self, request, queryset, view) -> django_filters.FilterSet | None:
        """The request's filterset, validated (a 400 otherwise); None when nothing is to
        filter."""
        if request.query_params.keys() <= PAGINATION_PARAMS:
            return None
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        named = frozenset(name for name in filterset_class.base_filters if name in request.query_params)
        filterset = narrowed(filterset_class, named)(**self.get_filterset_kwargs(request, queryset, view))
        if not filterset.is_valid() and self.raise_exception:
            raise filter_errors(filterset.form)
        # What the filters were, for a paginator that compiles its statements per set of
        # filters (transactions/pagination.py).
        view.applied_filterset = filterset
        return filterset


class FilteredLater:
    """A list's validated filters and the queryset they narrow, built only when read: a
    paginator that runs statements compiled once per set of filters (the transaction list
    on PostgreSQL) needs only the filters' values (view.applied_filterset) and the order,
    and building the caller's scoped queryset and applying each filter to it was about
    0.35 ms of a filtered list (docs/performance.md)."""

    def __init__(self, view, filterset: django_filters.FilterSet | None):
        self.view = view
        self.filterset = filterset
        self.model = view.model
        self.db = view.model._default_manager.db

    @functools.cached_property
    def queryset(self):
        """The view's queryset, filtered as the request asks."""
        queryset = self.view.get_queryset()
        if self.filterset is None:
            return queryset
        return self.filterset.filter_queryset(queryset.all())

    @property
    def order(self) -> tuple[str, ...]:
        """queryset's order_by, without building it: the ordering filter's, or the model's
        (the view's queryset sets none)."""
        ordering = None if self.filterset is None else self.filterset.filters.get("ordering")
        if ordering is not None:
            order = ordering.order_of(self.filterset.form.cleaned_data.get("ordering"))
            if order:
                return order
        return tuple(self.model._meta.ordering)


@functools.lru_cache(maxsize=512)
def narrowed(filterset_class, names: frozenset):
    """``filterset_class`` with only the filters ``names`` (when each of its filters reads the
    one query parameter of its name; otherwise the class itself)."""
    if not all(_one_parameter(filter_) for filter_ in filterset_class.base_filters.values()):
        return filterset_class
    subclass = type(filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__})
    # After the class is made: its metaclass sets base_filters from the declared filters.
    subclass.base_filters = {
        name: filter_ for name, filter_ in filterset_class.base_filters.items() if name in names
    }
    return subclass


def _one_parameter(filter_) -> bool:
    """Whether the filter reads exactly the query parameter of its name (a range filter's
    two-part field reads name_min and name_max instead)."""
    return not issubclass(filter_.field_class, forms.MultiValueField)


def filter_errors(form: forms.Form) -> ValidationError:
    """django-filter's translate_validation, except that a value outside a fixed list of
    choices (kind, ordering, owned) is refused in the serializers' words, with the valid
    choices listed. An id outside the caller's rows (a ModelChoiceField) keeps Django's
    message, which names no row."""
    return ValidationError(
        {
            name: [ErrorDetail(_message(form.fields.get(name), error), code=error.code) for error in errors]
            for name, errors in form.errors.as_data().items()
        }
    )


def _message(field, error) -> str:
    params = error.params or {}
    if (
        error.code == "invalid_choice"
        and "value" in params
        and isinstance(field, forms.ChoiceField)
        and not isinstance(field, forms.ModelChoiceField)
    ):
        return invalid_choice_message(params["value"], [value for value, _ in field.choices if value != ""])
    return error.message % (error.params or ())
