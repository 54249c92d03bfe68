import math
from decimal import Decimal

import django_filters
from django import forms
from django.db import connections
from django.db.models import BigIntegerField, BooleanField, Case, F, Func, Q, TextField, Value, When
from django.db.models.lookups import IContains
from django.db.models.sql.where import AND
from drf_spectacular.utils import extend_schema_field

from accounts.models import User
from budgets.models import Budget, Category
from money.currencies import CURRENCIES_BY_EXPONENT, codes_sql
from permissions.fields import ScopedModelChoiceFilter
from server.filters import FilterSet, StableOrderingFilter, WholeNumberFormField
from transactions.models import Kind, Transaction

AMOUNT = {"max_digits": 20, "decimal_places": 4}


def _amount_bound(label: str) -> django_filters.NumberFilter:
    """A bound on the amount, read as a Decimal. Documented as the decimal string money is
    everywhere else in the API: django-filter's NumberFilter would read as a float."""
    field = django_filters.NumberFilter(method="filter_amount", min_value=0, label=label, **AMOUNT)
    # No pattern: the form also takes "1e3" or " 5", and a pattern would call those invalid.
    schema = {"type": "string", "format": "decimal", "description": label, "example": "12.30"}
    return extend_schema_field(schema)(field)


SEARCH_SEPARATOR = "\x1f"


class SearchText(Func):
    """payee || chr(31) || description || chr(31) || notes (PostgreSQL): what search reads,
    and what tx_search_budget_trgm_idx indexes beside the budget (UPPER of it; the SQL must
    stay migration 0009's).

    ``walked()``: the same text written so that no index matches it (``|| ''``), for a read
    that walks a budget along its order index and checks each row until enough match (the
    page's window): given the trigram index, the planner read every matching row of each
    budget through it and sorted them, 0.13 ms a budget against 0.02 walked (window_sql)."""

    arg_joiner = " || chr(31) || "
    template = "(%(expressions)s)"
    output_field = TextField()

    def __init__(self):
        super().__init__(F("payee"), F("description"), F("notes"))

    def walked(self) -> "SearchText":
        text = self.copy()
        text.template = "(%(expressions)s || '')"
        return text


def search(queryset, value: str):
    """Payee, description or notes contain ``value``, case-insensitively (icontains).

    On PostgreSQL, where the separator cannot be part of a match, the three columns are
    searched as one text, ``payee <US> description <US> notes`` (US, the unit separator
    chr(31)): the expression the trigram index tx_search_trgm_idx is built on
    (migration 0006), and one UPPER() and LIKE per row instead of three. A match there
    lies within one column, since it cannot span a separator the term does not hold,
    so the rows are those of the three icontains (test_search.py compares them)."""
    if connections[queryset.db].vendor == "postgresql" and SEARCH_SEPARATOR not in value:
        return queryset.filter(IContains(SearchText(), value))
    return queryset.filter(
        Q(payee__icontains=value) | Q(description__icontains=value) | Q(notes__icontains=value)
    )


def walked_search(queryset):
    """``queryset`` with its search condition, if it has one, on SearchText.walked(): the
    same rows, read by whatever index the other conditions and the order choose."""

    def is_search(child) -> bool:
        return isinstance(child, IContains) and isinstance(child.lhs, SearchText)

    where = queryset.query.where
    if where.connector != AND or where.negated or not any(map(is_search, where.children)):
        return queryset
    query = queryset.query.clone()
    query.where.children = [
        IContains(child.lhs.walked(), child.rhs) if is_search(child) else child
        for child in query.where.children
    ]
    walked = queryset._chain()
    walked.query = query
    return walked


# The largest amount_minor a row can hold (a bigint); a bound beyond it is not sent as one.
_LARGEST_MINOR = 2**63 - 1


def amount_bounds(value: Decimal, *, at_least: bool) -> tuple[int | None, ...]:
    """``value`` in the minor units of each exponent of CURRENCIES_BY_EXPONENT, in its order:
    rounded up for a lower bound, down for an upper one. A lower bound past the largest bigint
    is None (no row reaches it), an upper one the largest bigint (every row is within it), so
    that each is a bigint parameter."""
    bounds = []
    for exponent in CURRENCIES_BY_EXPONENT:
        scaled = value.scaleb(exponent)
        bound = math.ceil(scaled) if at_least else math.floor(scaled)
        if bound > _LARGEST_MINOR:
            bound = None if at_least else _LARGEST_MINOR
        bounds.append(bound)
    return tuple(bounds)


def amount_bound(queryset, value: Decimal, *, at_least: bool):
    """Rows whose amount, in their budget's currency, is at least (or at most) ``value``."""
    return amount_bound_in_minor_units(queryset, amount_bounds(value, at_least=at_least), at_least=at_least)


class CurrencyOf(Func):
    """Whether a currency column holds one of the codes of ``exponent``, named in the SQL as
    constants (money.currencies.codes_sql): the amount bound's CASE is tested on every row a
    walk reads, and with the codes as parameters a prepared statement's generic plan built
    and searched an array of up to 139 of them each time (about 2.6 µs a row, 38 ms for a
    budget of 14,000 rows)."""

    output_field = BooleanField()

    def __init__(self, column: str, exponent: int):
        super().__init__(F(column), template=f"%(expressions)s IN {codes_sql(exponent)}")


def amount_bound_in_minor_units(queryset, bounds: tuple, *, at_least: bool):
    """Rows whose amount_minor is at least (or at most) the bound of their budget's currency
    exponent (``bounds``: amount_bounds, or placeholders for them when a statement is compiled).

    Amounts are stored in each budget's minor units, so the bound is the budget's: a CASE on
    its currency (none for a currency outside MINOR_UNITS, so such a row never matches). One
    comparison of the column with an expression of the budget's row, rather than one
    condition per exponent OR-ed together: in the list's count, a nested loop over the
    caller's budgets, PostgreSQL then reads each budget's matching range of
    tx_budget_amount_idx (budget_id = b.id AND amount_minor >= CASE ... END) instead of
    filtering every entry of the budget (docs/performance.md)."""
    lookup = "amount_minor__gte" if at_least else "amount_minor__lte"
    return queryset.filter(**{lookup: _bound_of_budget(bounds)})


def amount_outside_bound(queryset, bounds: tuple, *, at_least: bool):
    """The rows amount_bound_in_minor_units leaves out: below a lower bound (``at_least``),
    above an upper one. With no bound None, each row of a budget is kept by one of the two."""
    lookup = "amount_minor__lt" if at_least else "amount_minor__gt"
    return queryset.filter(**{lookup: _bound_of_budget(bounds)})


def _bound_of_budget(bounds: tuple) -> Case:
    whens = [
        When(CurrencyOf("budget__currency", exponent), then=Value(bound, output_field=BigIntegerField()))
        for exponent, bound in zip(CURRENCIES_BY_EXPONENT, bounds, strict=True)
    ]
    return Case(*whens, default=None, output_field=BigIntegerField())


class KnowledgeFilter(django_filters.NumberFilter):
    """A whole number, as the schema says (django-filter's NumberFilter reads a decimal)."""

    field_class = WholeNumberFormField


class TransactionFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("last_knowledge_of_server") is not None and not cleaned.get("budget"):
            self.add_error(
                "last_knowledge_of_server",
                forms.ValidationError(
                    "Name the budget (budget=) whose changes you ask for: knowledge is counted per budget.",
                    code="budget_required",
                ),
            )
        return cleaned


class TransactionFilter(FilterSet):
    budget = ScopedModelChoiceFilter(model=Budget)
    category = ScopedModelChoiceFilter(model=Category)
    created_by = ScopedModelChoiceFilter(model=User, label="Recorded by (yourself or a housemate)")
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    date_after = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label="On or after (inclusive)"
    )
    date_before = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label="On or before (inclusive)"
    )
    amount_min = _amount_bound("Amount at least, in the budget's currency (a decimal string)")
    amount_max = _amount_bound("Amount at most, in the budget's currency (a decimal string)")
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, label="Payee, description or notes"
    )
    last_knowledge_of_server = KnowledgeFilter(
        method="filter_knowledge",
        min_value=0,
        max_value=2**63 - 1,
        label="With budget=: only the rows written after this server knowledge of the budget "
        "(budgets/{id}/changes/ also reports the deleted ones)",
    )
    ordering = StableOrderingFilter(
        fields=(("date", "date"), ("amount_minor", "amount"), ("created_at", "created_at")),
    )

    class Meta:
        model = Transaction
        fields = []
        form = TransactionFilterForm

    def filter_knowledge(self, queryset, name, value: int):
        return queryset.filter(knowledge__gt=value) if value else queryset

    def filter_search(self, queryset, name, value):
        return search(queryset, value)

    def filter_amount(self, queryset, name, value: Decimal):
        return amount_bound(queryset, value, at_least=name == "amount_min")
