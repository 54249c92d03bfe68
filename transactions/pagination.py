"""Pagination for the transaction list: exact pages without sorting every visible row,
whatever the number of visible budgets.

Two ways to page (docs/performance.md, "Issue 16, items 1 and 2"):

- limit/offset, with the exact ``count``: the count of a list narrowed by nothing but (at
  most) one budget comes from the per-budget counters the database keeps
  (BudgetTransactionCount), one read per visible budget however many rows they hold; any
  other filter counts matching rows per budget over the (budget, …) indexes. An unnarrowed
  list on PostgreSQL reads the counters in the page's own statement
  (compiled_counted_page): one statement, one snapshot, for the count and the page;
- ``?cursor=``, for clients that walk everything: keyset pagination on (order field, id),
  no count, stable under inserts. ``cursor=start`` asks for the first page; each page
  links the next one. The cursor is signed for the caller, and all it holds is a position
  in the order: it never widens what the caller may see (decode_cursor).

On PostgreSQL a page's ids come from a window over the caller's budgets (window_page_ids):
a sample of the newest (in the requested order) rows of some of the budgets fixes an edge
that at least offset+limit matching rows reach, then each budget's rows up to that edge are
read off its (budget, <order>, id) index and merged. Its cost follows the page (offset +
limit) and one index descent per budget, not the rows the budgets hold. An unnarrowed or
searched list in date or amount order over many budgets first walks the whole table's rows
in the order and keeps the caller's (walk_of; a searched list's rows checked for the term
one by one), a few hundred index entries for an adviser whose rows are among the table's
first in that order, where the window costs a descent per budget.
SQLite and unusual orderings use the plain query.
"""

import heapq
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core import signing
from django.db import connections
from django.db.models import BooleanField, Count, Expression, F, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.sql.where import AND
from django_filters.constants import EMPTY_VALUES
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from budgets.models import Budget
from permissions.scoping import caller, dangerously_unscoped, is_active_user
from server.compiled import array_text, compiled_sql
from server.filters import PAGINATION_PARAMS, FilteredLater
from server.pagination import LimitOffsetPagination
from transactions.filters import (
    CURRENCIES_BY_EXPONENT,
    amount_bound_in_minor_units,
    amount_bounds,
    amount_outside_bound,
    walked_search,
)
from transactions.models import BudgetTransactionCount, Transaction
from transactions.rows import PAGE_COLUMNS, as_page_rows, page_rows, page_values
from transactions.selectors import transaction_counts_by_budget

# Orderings whose per-budget index exists: ("-date", "-id") etc. (see Transaction.Meta.indexes).
INDEXED_ORDER_FIELDS = {"date", "amount_minor", "created_at"}
# Query parameters that never narrow the rows (an empty value is a filter left out).
NOT_NARROWING = PAGINATION_PARAMS | {"ordering"}
# The window's sample: at least this many budgets (all of them when there are fewer).
MIN_SAMPLED_BUDGETS = 32
# An unnarrowed (or searched: walk_of) list in one of these orders over at least this many
# budgets first walks the rows of the whole table in the order (a table-wide (field, id)
# index: Transaction.Meta) for its page, reading at most this many index entries per visible
# budget: about what the window's one descent per budget costs (window_sql, "walk"). Below
# it the window's descents are cheap.
WALK_ORDER_FIELDS = {"date", "amount_minor"}
WALK_FROM_BUDGETS = 64
WALK_ENTRIES_PER_BUDGET = 10
# A searched list is walked too, its filters checked on the rows of the caller's budgets
# (one table row each), unless a filter bounds the order's own field. The window's reads of
# a searched list check each row's text too, one descent per budget; other filters' windows
# read their own indexes, which cost less than a table row per entry (docs/performance.md,
# the fourteenth session).
ORDER_BOUNDS = {"date": {"date_after", "date_before"}, "amount_minor": {"amount_min", "amount_max"}}
# An unfiltered or one-budget list's page comes from SQL compiled once per (order, budget
# filter) (compiled_page); False builds it per request (the tests compare the two).
COMPILE_PAGES = True
# What the window's edge is when the sample is short of offset+limit rows: below (or above,
# for an ascending order) every value, so the window is each budget's first offset+limit rows.
_BEYOND = {
    ("date", "DESC"): "'-infinity'::date",
    ("date", "ASC"): "'infinity'::date",
    ("created_at", "DESC"): "'-infinity'::timestamptz",
    ("created_at", "ASC"): "'infinity'::timestamptz",
    ("amount_minor", "DESC"): "'-9223372036854775808'::bigint",
    ("amount_minor", "ASC"): "'9223372036854775807'::bigint",
}
_BEYOND_ID = {"DESC": "0", "ASC": "'9223372036854775807'::bigint"}
# The sample is about sqrt(budgets x rows) / this many budgets (sampled_budgets).
_SAMPLE_SPREAD = 4
# A counted page's budgets (compiled_counted_page): how many, their rows, and how many of those
# the page's depth (the parameter) needs.
_TOTALS_SQL = (
    "SELECT count(*) AS budgets, COALESCE(sum(page_budget.n), 0)::bigint AS n, "
    "LEAST(%s::bigint, COALESCE(sum(page_budget.n), 0))::bigint AS need FROM page_budget"
)
# Its sample, chosen as sampled_budgets chooses it, the depth twice its parameter.
_COUNTED_SHARE_SQL = (
    "SELECT chosen.id, "  # noqa: S608 - fixed SQL and constants
    "GREATEST(1, LEAST(chosen.n, CEIL(%s::numeric * chosen.n / sum(chosen.n) OVER ())))::int AS k "
    "FROM (SELECT page_budget.id, page_budget.n FROM page_budget "
    "ORDER BY page_budget.n DESC, page_budget.id LIMIT ("
    f"SELECT GREATEST({MIN_SAMPLED_BUDGETS}, "
    f"CEIL(sqrt(totals.budgets * %s::numeric) / {_SAMPLE_SPREAD}))::bigint FROM totals)) AS chosen"
)

CURSOR_PARAM = "cursor"
CURSOR_START = "start"
_CURSOR_SALT = "transactions.list.cursor"
_INVALID_CURSOR = "This cursor is not valid here: start again with cursor=start."


def _top_n_order(order: tuple[str, ...]) -> tuple[str, ...] | None:
    """``order`` if a (budget, field, id) index reads it, else None."""
    if len(order) != 2 or order[1].lstrip("-") != "id":
        return None
    first, second = order
    if first.lstrip("-") not in INDEXED_ORDER_FIELDS or first.startswith("-") != second.startswith("-"):
        return None
    return order


class RowCompare(Expression):
    """``(a, b) <op> (x, y)``: a row comparison, which PostgreSQL reads as one range bound of a
    (…, a, b) index (and SQLite evaluates as such). Both sides are expressions."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, left, op: str, right):
        if op not in ("<", "<=", ">", ">="):
            raise ValueError(op)
        super().__init__()
        self.left, self.op, self.right = list(left), op, list(right)

    def get_source_expressions(self):
        return [*self.left, *self.right]

    def set_source_expressions(self, exprs):
        self.left, self.right = list(exprs[: len(self.left)]), list(exprs[len(self.left) :])

    def as_sql(self, compiler, connection):
        parts, params = [], []
        for side in (self.left, self.right):
            sqls = []
            for expression in side:
                sql, p = compiler.compile(expression)
                sqls.append(sql)
                params.extend(p)
            parts.append(f"({', '.join(sqls)})")
        return f"{parts[0]} {self.op} {parts[1]}", params


def after_position(order: tuple[str, ...], value, pk: int) -> RowCompare:
    """Rows strictly after (value, pk) in ``order``."""
    field = order[0].lstrip("-")
    # Typed as the columns: an untyped int goes to PostgreSQL as an int4 (Django's IntegerField),
    # which an amount or id past 2**31 - 1 overflows.
    position = (
        Value(value, output_field=Transaction._meta.get_field(field)),
        Value(pk, output_field=Transaction._meta.pk),
    )
    return RowCompare((F(field), F("id")), "<" if order[0].startswith("-") else ">", position)


def filters_only(queryset, scope: RawSQL):  # only on postgresql
    """``queryset`` without the budget scope that visible_to() put on it, its filters kept; None
    when the scope is not found exactly once among its top-level conditions.

    Unscoped: only for SQL that binds budget_id to budgets of the caller's scope (the window's
    and the count's LATERAL joins do, over the scope itself). Inside those joins the scope,
    repeated, became a semi-join run once per budget (about 14 µs each: 28 ms for 2,000)."""
    query = queryset.query.clone()
    where = query.where
    if where.connector != AND or where.negated:
        return None
    found = [
        child
        for child in where.children
        if isinstance(child, RelatedIn)
        and isinstance(child.rhs, RawSQL)
        and (child.rhs.sql, tuple(child.rhs.params)) == (scope.sql, tuple(scope.params))
        and child.lhs.target.attname == "budget_id"
    ]
    if len(found) != 1:
        return None
    where.children = [child for child in where.children if child is not found[0]]
    unscoped = queryset._chain()
    unscoped.query = query
    return unscoped


def _with_limit(queryset, limit_sql: str) -> tuple[str, tuple]:
    """The queryset's SQL with ``LIMIT <limit_sql>`` (an outer column or a parameter): the
    ORM writes limits as literals, which would make a new statement of every page size."""
    sql, params = queryset[:1].query.sql_with_params()
    if not sql.endswith(" LIMIT 1"):
        raise AssertionError(f"unexpected SQL for a limited query: {sql[-80:]}")
    return sql.removesuffix(" LIMIT 1") + f" LIMIT {limit_sql}", tuple(params)


def sampled_budgets(weights: dict[int, int], rows: int) -> tuple[list[int], list[int]]:
    """The window's sample: the budgets with the most rows (ties: lowest id), about
    sqrt(budgets x rows) / 4 of them, at least MIN_SAMPLED_BUDGETS, and how many of its first
    rows each gives, in proportion to its weight (together at least ``rows`` when the budgets
    hold them). More budgets sampled cost one index descent each; fewer make the window
    wider (about rows x budgets / sampled rows to merge), hence the square root."""
    budgets = len(weights)
    wanted = max(MIN_SAMPLED_BUDGETS, math.ceil(math.sqrt(budgets * rows) / _SAMPLE_SPREAD))
    chosen = heapq.nsmallest(wanted, weights, key=lambda b: (-weights[b], b))
    total = sum(weights[b] for b in chosen) or 1
    shares = [max(1, min(weights[b], math.ceil(rows * weights[b] / total))) for b in chosen]
    return chosen, shares


def window_page_ids(  # only on postgresql
    queryset,
    *,
    scope: RawSQL,
    weights: dict[int, int],
    order: tuple[str, ...],
    offset: int,
    limit: int,
    unordered: bool = False,
    narrowed,
    exact: bool = True,
) -> RawSQL:
    """The page's ids, in one statement, for any number of budgets (window_sql), its sample
    drawn from ``weights`` (rows per budget, ``exact``ly or at most). ``unordered``: the list
    is narrowed by a filter that no index reads in the order (UNORDERED_FILTERS);
    ``narrowed``: the names of its filters (walk_of)."""
    budgets, sampled, shares, sparse = window_budgets(weights, offset + limit, unordered=unordered)
    return window_sql(
        queryset,
        scope=scope,
        order=order,
        budgets=array_text(budgets),
        sparse=None if sparse is None else array_text(sparse),
        sampled=None if sampled is None else array_text(sampled),
        shares=array_text(shares),
        edge_at=offset + limit - 1,
        depth=offset + limit,
        limit=limit,
        offset=offset,
        walk=walk_of(weights, order, offset + limit, narrowed=narrowed, exact=exact),
    )


def walk_of(weights: dict[int, int], order: tuple[str, ...], depth: int, *, narrowed=(), exact: bool = True):
    """window_sql's ``walk`` for a page ``depth`` rows deep: (index entries to read at most,
    rows to find, the largest table in which the walk is expected to find them), or None
    when the window alone reads the page: an order with no table-wide index
    (WALK_ORDER_FIELDS), fewer than WALK_FROM_BUDGETS budgets, or a list ``narrowed`` (the
    names of its filters) that is not searched, is bounded on the order's own field (its
    rows are not spread through the order: they all sit past the bound), or whose
    ``weights`` are not ``exact``. ``weights``: rows per budget, exactly (a count) or at
    most (a cursor's counters, which say nothing of how many rows a filter keeps); a page
    deeper than they hold needs all of them. Expected: if the caller's (matching) rows lie
    in the order as the table's do, finding ``need`` of them takes need x table rows / the
    caller's rows entries; past that size the walk is not tried (the 500-budget adviser's
    offset=2000: 18,600 entries expected, 5,000 allowed; tried, it cost 1.7 ms before the
    window ran)."""
    field = order[0].lstrip("-")
    if field not in WALK_ORDER_FIELDS or len(weights) < WALK_FROM_BUDGETS:
        return None
    if narrowed and ("search" not in narrowed or not exact or not ORDER_BOUNDS[field].isdisjoint(narrowed)):
        return None
    entries = WALK_ENTRIES_PER_BUDGET * len(weights)
    visible = sum(weights.values())
    need = min(depth, visible)
    return (entries, need, entries * visible // need) if need <= entries else None


def counted_walk(entries_per_budget, from_budgets):  # only on postgresql
    """walk_of's numbers for a counted page, as SQL over its totals: the index entries to
    read, the rows to find, and the largest table in which to try (-1, never, where walk_of
    gives None: fewer than ``from_budgets`` budgets, or more rows needed than entries)."""
    entries = "%s::bigint * totals.budgets"
    return (
        (f"(SELECT {entries} FROM totals)", (entries_per_budget,)),  # noqa: S608 - fixed SQL
        ("(SELECT totals.need FROM totals)", ()),
        (
            f"(SELECT CASE WHEN totals.budgets >= %s::bigint AND totals.need <= {entries} "  # noqa: S608
            f"THEN {entries} * totals.n / GREATEST(totals.need, 1) ELSE -1 END FROM totals)",
            (from_budgets, entries_per_budget, entries_per_budget),
        ),
    )


def window_budgets(weights: dict[int, int], depth: int, *, unordered: bool):  # only on postgresql
    """window_sql's budgets, sample (``sampled``, ``shares``) and ``sparse``, from ``weights``
    (rows per budget, exactly or at most) for a page ``depth`` rows deep. Sparse: a budget
    with at most ``depth`` matching rows of an ``unordered`` list. When one is, the sample is
    given as each budget's share (0: not sampled), ``sampled`` None."""
    budgets = sorted(weights)
    sampled, shares = sampled_budgets(weights, depth)
    sparse = [unordered and weights[budget] <= depth for budget in budgets]
    if not any(sparse):
        return budgets, sampled, shares, None
    share_of = dict(zip(sampled, shares, strict=True))
    return budgets, None, [share_of.get(budget, 0) for budget in budgets], sparse


def window_sql(queryset, *, walk=None, **window):  # only on postgresql
    """The page's ids, in one statement, for any number of budgets:

    1. ``page_budget``: ``budgets`` that are in the caller's scope (checked again here, so an
       id that is not the caller's reads nothing);
    2. ``sample``: from the ``sampled`` budgets, each one's first ``shares`` matching rows in
       the order, straight off its (budget, <order>, id) index;
    3. ``edge``: the sample's row at ``edge_at`` (offset+limit-1) in the order. At least
       offset+limit matching rows come no later than it (the sample's own), so the page
       lies within it;
    4. each budget's matching rows up to the edge (at most ``depth``, offset+limit, of them),
       merged, and the page cut from them.

    When the sample holds fewer rows than that, there is no edge and 4. reads each budget's
    first offset+limit rows: the per-budget top-N this replaces.

    A list narrowed by a filter that no index reads in the order (an amount bound, a
    recorder) may say which budgets are ``sparse`` (as ``budgets``, in their order; the
    sample is then each budget's share, ``shares`` beside them: window_budgets): those with
    no more matching rows than the page's depth (offset+limit). Walking a budget's order
    index reads its rows until enough of them match, which can be the whole budget for a
    handful of rows. A sparse budget's rows are found by the filters' own indexes instead,
    behind an OFFSET 0 fence the order cannot cross, and sorted: at most depth rows. Both
    reads give the same rows. amount_min=499.90 for bench-recent (12 rows, 9 of them in its
    50,000-row budget): the page's statement took 190 ms walked, 1.7 ms found
    (docs/performance.md).

    ``walk`` (a list over many budgets: walk_of), the number of index entries
    to read at most, of rows to find, and the table size up to which to try: before the
    window, the table's rows are walked in the order off its table-wide index (every
    budget's, index-only), each kept if its budget is in ``page_budget`` (and, for a
    narrowed list, if its table row passes the filters), until that many are found. The
    first depth rows of the list are the first depth rows so kept: when the
    walk finds them all, they are the page's rows and the window is not run; when it reads
    its entries and comes up short (the caller's rows are not among the table's first in
    the order), or the table (PostgreSQL's estimate of its rows, pg_class.reltuples) is
    larger than the size given, the window is. The 2,000-budget adviser's first page: about
    500 entries read, against 2,000 descents.

    Every value is a parameter (the SQL depends on the order, the filters and whether
    ``sparse`` and ``walk`` are given only), so compiled_page can stand placeholders in for
    them. ``window``: _window's other arguments (scope, order, budgets, sparse, sampled,
    shares, edge_at, depth, limit, offset)."""
    walked = None if walk is None else tuple(("%s", (value,)) for value in walk)
    head, head_params, body, body_params = _window(queryset, walk=walked, **window)
    return RawSQL(f"{head} {body}", (*head_params, *body_params))  # noqa: S611 - values are parameters


def _window(  # only on postgresql
    queryset,
    *,
    scope: RawSQL,
    order: tuple[str, ...],
    budgets,
    sparse,
    sampled,
    shares,
    edge_at,
    depth,
    limit,
    offset,
    walk,
):
    """window_sql's statement as its WITH clause and the SELECT of the page's ids that
    follows it, each with its parameters. ``walk``: its three numbers as SQL expressions,
    each (sql, params). ``budgets`` None: the budgets are the caller's with rows, and how
    many each holds, read from the counters in the statement itself (compiled_counted_page);
    ``sampled``, ``shares`` and ``sparse`` are then None too, and the sample is chosen in
    SQL as sampled_budgets chooses it."""
    field = order[0].lstrip("-")
    direction = "DESC" if order[0].startswith("-") else "ASC"
    reach = ">=" if direction == "DESC" else "<="
    inner = filters_only(queryset, scope)
    if inner is None:
        inner = queryset  # still right; the scope is then evaluated per budget
    inner = inner.order_by(*order).values_list("id", field)
    # Fixed literals only (the table above): no value is interpolated.
    edge_sql = (
        f"COALESCE(edge.sort_key, {_BEYOND[field, direction]})",
        f"COALESCE(edge.id, {_BEYOND_ID[direction]})",
    )
    edge = tuple(RawSQL(sql, ()) for sql in edge_sql)  # noqa: S611
    sampled_rows = inner.filter(budget_id=RawSQL("share.id", ()))
    budget_rows = inner.filter(budget_id=RawSQL("page_budget.id", ()))
    # Walked branches check each row's text as they go (a search's walked form); the rows of a
    # sparse budget are found by the filters' own indexes, the trigram index among them.
    walked = walked_search(inner)
    walked_sample = walked.filter(budget_id=RawSQL("share.id", ()))
    window_rows = walked.filter(budget_id=RawSQL("page_budget.id", ()))
    window_rows = window_rows.filter(RowCompare((F(field), F("id")), reach, edge))
    sorted_by = f"sort_key {direction}, id {direction}"
    sample_sql, sample_params = _with_limit(walked_sample, "share.k")
    # A counted page's limits are read at run time (an InitPlan): planned for their values,
    # its plan looked cheaper than the generic one, so PostgreSQL planned it again on every
    # run (1.6 ms), for the same plan.
    value = "%s" if budgets is not None else "(SELECT %s::bigint)"
    window, window_params = _with_limit(window_rows, value)
    window_params = (*window_params, depth)
    # The scope's compiled SQL is interpolated; values are parameters.
    in_scope = f"WHERE given.id IN ({scope.sql})"
    totals, totals_params = "", ()
    budget_sql = "SELECT given.id FROM unnest(%s::bigint[]) AS given (id) " + in_scope  # noqa: S608
    budget_params = (budgets, *scope.params)
    share_sql = (
        "SELECT given.id, given.k FROM unnest(%s::bigint[], %s::int[]) AS given (id, k) "
        "WHERE given.id IN (SELECT page_budget.id FROM page_budget)"
    )
    share_params = (sampled, shares)
    if budgets is None:
        # The budgets with rows, with how many (``n``); the sample: the most rows first.
        counters = BudgetTransactionCount._meta.db_table
        budget_sql = (
            f"SELECT c.budget_id AS id, c.total AS n FROM {counters} AS c "  # noqa: S608 - fixed names
            f"WHERE c.budget_id IN ({scope.sql}) AND c.total > 0"
        )
        budget_params = scope.params
        totals, totals_params = f"totals AS MATERIALIZED ({_TOTALS_SQL}), ", (depth,)
        share_sql, share_params = _COUNTED_SHARE_SQL, (depth, depth)
    elif sparse is not None:
        # Each budget's share of the sample and whether it is sparse, beside its id: the sample
        # is read off page_budget, with no join (a generic plan made that a nested loop).
        budget_sql = (
            "SELECT given.id, given.k, given.sparse "
            "FROM unnest(%s::bigint[], %s::int[], %s::boolean[]) AS given (id, k, sparse) "
        )
        budget_sql += in_scope
        budget_params = (budgets, shares, sparse, *scope.params)
        share_sql = "SELECT page_budget.id, page_budget.k, page_budget.sparse FROM page_budget "
        share_sql += "WHERE page_budget.k > 0"
        share_params = ()
        sample_sql, sample_params = _walked_or_sorted(
            "share", (sample_sql, sample_params), sampled_rows, sorted_by, ("share.k", ())
        )
        # The edge is applied to the rows found, not among their filters: with it, the
        # planner read them along the order's index again (the edge bounds it).
        up_to_edge = f"WHERE (fenced.sort_key, fenced.id) {reach} ({edge_sql[0]}, {edge_sql[1]}) "
        window, window_params = _walked_or_sorted(
            "page_budget", (window, window_params), budget_rows, sorted_by, ("%s", (depth,)), up_to_edge
        )
    # Interpolated: the ORM's compiled SQL, the scope's compiled SQL and fixed keywords and
    # literals; every value is a parameter.
    ctes = (
        f"WITH page_budget AS MATERIALIZED ({budget_sql}), {totals}"  # noqa: S608
        f"share AS ({share_sql}), "
        "sample AS ("
        "SELECT sampled.id, sampled.sort_key FROM share "
        f"CROSS JOIN LATERAL ({sample_sql}) AS sampled (id, sort_key)"
        "), edge AS ("
        f"SELECT sample.sort_key, sample.id FROM sample ORDER BY sample.sort_key {direction}, "
        f"sample.id {direction} LIMIT 1 OFFSET {value}"
        ")"
    )
    params = (*budget_params, *totals_params, *share_params, *sample_params, edge_at)
    windowed = f"FROM page_budget LEFT JOIN edge ON TRUE CROSS JOIN LATERAL ({window}) AS page (id, sort_key)"
    if walk is None:
        head, body = ctes, f"SELECT page.id {windowed} "
        body_params = window_params
    else:
        (entries, entries_params), (need, need_params), (table_at_most, at_most_params) = walk
        table = inner.model._meta.db_table
        # The first entries of the whole table in the order, index-only: the filters are not
        # among the walk's conditions, so it reads at most ``entries`` index entries whatever
        # they keep (with them, a term few rows hold had it read the whole table).
        table_sql = (
            f"SELECT t.id, t.{field}, t.budget_id FROM {table} AS t "  # noqa: S608 - fixed names
            f"ORDER BY t.{field} {direction}, t.id {direction} LIMIT %s"
        )
        # The budget test stays a filter on the walk (a hashed subplan: IS TRUE keeps the
        # planner from making it a join, which read every budget's rows); the walk's count
        # decides once which branch runs. A narrowed list's filters are then checked on the
        # rows of the caller's budgets only, each by its primary key. OFFSET 0 keeps that
        # check a subplan run per row: without it PostgreSQL may hash every matching row of
        # the table instead (800,000 rows, 0.5 s, when tried with the 2,000-budget adviser's
        # amount_min=100).
        matches, match_params = "", ()
        if inner.query.where:
            match = walked.filter(pk=RawSQL("walked.id", ())).order_by().values("pk")
            match_sql, match_params = match.query.sql_with_params()
            matches = f"AND EXISTS ({match_sql} OFFSET 0) "
        head = (
            f"{ctes}, walk AS MATERIALIZED ("  # noqa: S608
            f"SELECT walked.id, walked.sort_key FROM ({table_sql.replace('%s', entries)}) "
            "AS walked (id, sort_key, budget_id) "
            "WHERE (walked.budget_id IN (SELECT page_budget.id FROM page_budget)) IS TRUE "
            f"{matches}"
            f"AND (SELECT c.reltuples FROM pg_class c WHERE c.oid = %s::regclass) <= {table_at_most} "
            f"LIMIT {need})"
        )
        params = (*params, *entries_params, *match_params, table, *at_most_params, *need_params)
        body = (
            "SELECT page.id FROM ("  # noqa: S608
            f"SELECT walk.id, walk.sort_key FROM walk WHERE (SELECT count(*) FROM walk) = {need} "
            f"UNION ALL SELECT page.id, page.sort_key {windowed} WHERE (SELECT count(*) FROM walk) < {need}"
            ") AS page (id, sort_key) "
        )
        body_params = (*need_params, *window_params, *need_params)
    body += f"ORDER BY page.sort_key {direction}, page.id {direction} LIMIT {value} OFFSET {value}"
    return head, params, body, (*body_params, limit, offset)


def _walked_or_sorted(  # only on postgresql
    budget: str, walked: tuple[str, tuple], rows, sorted_by: str, limit: tuple[str, tuple], where: str = ""
):
    """A budget's first rows read one of two ways, as ``{budget}.sparse`` says (window_sql):
    ``walked`` along the order's index, or ``rows`` found by the filters' own indexes behind
    an OFFSET 0 fence (the planner cannot carry the order into it), kept if ``where`` says
    so, and sorted. The branch not taken is not run (its condition is a constant for each
    budget)."""
    walked_sql, walked_params = walked
    limit_sql, limit_params = limit
    found_sql, found_params = rows.order_by().query.sql_with_params()
    # Interpolated: the ORM's compiled SQL, fixed keywords; values are parameters.
    sql = (
        f"SELECT walked.id, walked.sort_key FROM ({walked_sql}) AS walked (id, sort_key) "  # noqa: S608
        f"WHERE NOT {budget}.sparse "
        "UNION ALL "
        "SELECT found.id, found.sort_key FROM ("
        f"SELECT id, sort_key FROM ({found_sql} OFFSET 0) AS fenced (id, sort_key) {where}"
        f"ORDER BY {sorted_by} LIMIT {limit_sql}"
        f") AS found WHERE {budget}.sparse"
    )
    return sql, (*walked_params, *found_params, *limit_params)


def matching_rows_per_budget(queryset, budget_ids: RawSQL) -> dict[int, int]:  # only on postgresql
    """The narrowed count, one budget at a time: a LATERAL count over each visible budget's
    (budget, …) indexes. Its plan is the same whatever the values, so it stays right once
    PostgreSQL reuses a generic plan for the prepared statement; the flat GROUP BY's
    generic plan chose the category index and read every row of the category (5 ms
    against 0.5 ms for bench-recent). The scope is the outer list, not repeated per budget."""
    return _rows_per_budget(queryset.db, *count_sql(queryset, budget_ids))


def count_sql(queryset, budget_ids: RawSQL) -> tuple[str, tuple]:  # only on postgresql
    """matching_rows_per_budget's statement."""
    inner_sql, inner_params = _rows_of_budget(queryset, budget_ids)
    # Interpolated: the ORM's compiled SQL; values are parameters.
    sql = (
        f"SELECT scope.id, matching.n FROM ({budget_ids.sql}) AS scope (id) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM ({inner_sql}) AS row) AS matching "
        "WHERE matching.n > 0"
    )
    return sql, (*budget_ids.params, *inner_params)


def _rows_of_budget(queryset, budget_ids: RawSQL) -> tuple[str, tuple]:  # only on postgresql
    """The ids of ``queryset``'s rows in the budget ``scope.id``, the scope left out
    (filters_only), as SQL."""
    inner = filters_only(queryset, budget_ids)
    if inner is None:
        inner = queryset
    return inner.filter(budget_id=RawSQL("scope.id", ())).order_by().values("pk").query.sql_with_params()


def complement_count_sql(
    kept, outside, budget_ids: RawSQL, *, at_least: bool, bound
) -> tuple[str, tuple]:  # only on postgresql
    """count_sql for a list narrowed by one amount bound and nothing else: each budget's
    matching rows counted (``kept``), or its total from the counters less its rows
    ``outside`` the bound, whichever the column's statistics say are fewer (the share of
    its histogram past ``bound``, the two-place exponent's; no statistics: counted). Every
    row of a budget is kept or outside (no bound is None here), and the counters are read
    in the same statement, so both ways give the same count. The bench's amount_min=100
    keeps 80% of rows: the 2,000-budget adviser's count, 353,095 rows counted, took 37-41 ms
    against 13 ms for the 86,905 outside (docs/performance.md)."""
    kept_sql, kept_params = _rows_of_budget(kept, budget_ids)
    outside_sql, outside_params = _rows_of_budget(outside, budget_ids)
    past = "<" if at_least else ">"
    histogram = "stats.histogram_bounds::text::bigint[]"
    # Interpolated: the ORM's compiled SQL, model metadata and fixed keywords; values are
    # parameters. The statistics' subquery is not correlated: run once per statement. OFFSET 0
    # keeps the count a subquery: flattened, its CASE ran twice, in the list and in the filter.
    fewer_outside = (
        f"SELECT 2 * (SELECT COUNT(*) FROM unnest({histogram}) AS past (v) WHERE past.v {past} %s) "  # noqa: S608
        f"< cardinality({histogram}) FROM pg_stats AS stats "
        "WHERE stats.schemaname = current_schema() AND stats.tablename = %s AND stats.attname = %s"
    )
    counters = BudgetTransactionCount._meta
    total = (
        f"COALESCE((SELECT kept.total FROM {counters.db_table} AS kept "  # noqa: S608
        f"WHERE kept.{counters.pk.column} = scope.id), 0)"
    )
    sql = (
        f"SELECT scope.id, matching.n FROM ({budget_ids.sql}) AS scope (id) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT CASE WHEN ({fewer_outside}) "
        f"THEN {total} - (SELECT COUNT(*) FROM ({outside_sql}) AS row) "
        f"ELSE (SELECT COUNT(*) FROM ({kept_sql}) AS row) END AS n OFFSET 0) AS matching "
        "WHERE matching.n > 0"
    )
    column = Transaction._meta.get_field("amount_minor").column
    statistics = (bound, Transaction._meta.db_table, column)
    return sql, (*budget_ids.params, *statistics, *outside_params, *kept_params)


def _rows_per_budget(alias: str, sql: str, params) -> dict[int, int]:  # only on postgresql
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


# Filters a compiled statement takes as parameters (ids, a kind, dates, amounts). The others
# (search, knowledge) put values of their own making in the SQL, so a list that uses one
# builds its statements per request.
COMPILED_FILTERS = frozenset(
    {"budget", "category", "created_by", "kind", "date_after", "date_before", "amount_min", "amount_max"}
)
# An amount bound is one parameter per currency exponent (filters.amount_bounds); the value
# says whether it is a lower bound.
AMOUNT_BOUNDS = {"amount_min": True, "amount_max": False}
_NO_VALUE = object()
# Where the two-place currencies' bound is among an amount filter's values: the statistics
# of amounts are read at it (complement_count_sql).
_TWO_PLACES = list(CURRENCIES_BY_EXPONENT).index(2)
# Filters no (budget, <order>, id) index reads in the order: walking that index checks each
# row, so a budget with a handful of matching rows is read whole (window_sql's "sparse").
# Search is not among them: finding a budget's matching rows through the trigram index costs
# about 0.13 ms a budget, more than walking a small one (the 2,000-budget adviser's page for
# "Rail": 251 ms found, 37 ms walked).
UNORDERED_FILTERS = frozenset({"amount_min", "amount_max", "created_by"})


@dataclass(frozen=True)
class Narrowing:  # only on postgresql
    """A list's filters as a compiled statement takes them: their names (part of its key)
    and values (its parameters, in the names' order: a row's id for an id filter, one bound
    per currency exponent for an amount filter)."""

    names: tuple[str, ...] = ()
    values: tuple = ()
    filters: dict = field(default_factory=dict, compare=False)

    def apply(self, queryset, values):
        """``queryset`` narrowed as the filterset narrowed the request's, with ``values``
        (the placeholders, when compiling) in place of this request's."""
        values = iter(values)
        for name in self.names:
            if name in AMOUNT_BOUNDS:
                bounds = tuple(next(values) for _ in CURRENCIES_BY_EXPONENT)
                queryset = amount_bound_in_minor_units(queryset, bounds, at_least=AMOUNT_BOUNDS[name])
                continue
            filter_ = self.filters[name]
            model = getattr(filter_, "scoped_model", None)
            value = next(values)
            queryset = filter_.filter(queryset, value if model is None else model(pk=value))
        if next(values, _NO_VALUE) is not _NO_VALUE:
            raise ValueError(f"More values than the filters {self.names} take.")
        return queryset

    @property
    def counted_either_way(self) -> bool:
        """Whether the count may be a budget's total less its rows outside the bound
        (complement_count_sql): one amount bound, no other filter, no bound None (a lower
        bound past the largest amount, which no row reaches and no row is below)."""
        return len(self.names) == 1 and self.names[0] in AMOUNT_BOUNDS and None not in self.values

    def outside(self, user_id, values):
        """The caller's rows outside the one amount bound (counted_either_way)."""
        (name,) = self.names
        scoped = Transaction.objects.visible_to(caller(user_id))
        return amount_outside_bound(scoped, tuple(values), at_least=AMOUNT_BOUNDS[name])

    @property
    def unordered(self) -> bool:
        """Whether a filter is one no index reads in the list's order (UNORDERED_FILTERS)."""
        return not UNORDERED_FILTERS.isdisjoint(self.names)

    def scoped(self, user_id, values):
        """The caller's transactions (a stand-in for the caller: server/compiled.py), narrowed."""
        return self.apply(Transaction.objects.visible_to(caller(user_id)), values)

    def scoped_to_budget(self, user_id, budget_id, values):
        """scoped() within one budget, its right checked once for the statement."""
        return self.apply(Transaction.objects.visible_in_budget(caller(user_id), budget_id), values)


def _parameters(name: str, value) -> tuple:  # only on postgresql
    if name in AMOUNT_BOUNDS:
        return amount_bounds(value, at_least=AMOUNT_BOUNDS[name])
    return (getattr(value, "pk", value),)


def narrowing_of(view) -> Narrowing | None:  # only on postgresql
    """The filters the list's filterset applied (FilterBackend keeps it on the view), or
    None when one of them is not in COMPILED_FILTERS. No filterset ran: nothing narrows."""
    filterset = getattr(view, "applied_filterset", None)
    if filterset is None:
        return Narrowing()
    cleaned = {
        name: value
        for name, value in filterset.form.cleaned_data.items()
        if name != "ordering" and value not in EMPTY_VALUES
    }
    if not cleaned.keys() <= COMPILED_FILTERS:
        return None
    names = tuple(sorted(cleaned))
    values = tuple(parameter for name in names for parameter in _parameters(name, cleaned[name]))
    return Narrowing(names, values, filterset.filters)


def compiled_count(user, narrowing: Narrowing, alias: str) -> dict[int, int]:  # only on postgresql
    """matching_rows_per_budget with SQL compiled once per set of filters (PostgreSQL)."""

    either_way = narrowing.counted_either_way

    def build(user_id, *values):
        kept, scope = narrowing.scoped(user_id, values), Budget.objects.visible_pks(caller(user_id))
        if not either_way:
            return count_sql(kept, scope)
        outside = narrowing.outside(user_id, values)
        at_least = AMOUNT_BOUNDS[narrowing.names[0]]
        return complement_count_sql(kept, outside, scope, at_least=at_least, bound=values[_TWO_PLACES])

    key = ("transaction-count", narrowing.names, either_way)
    return _rows_per_budget(alias, *compiled_sql(key, build, user.pk, *narrowing.values))


def compiled_ids_first(
    user, order, narrowing: Narrowing, budget: int, *, offset: int, limit: int
):  # only on postgresql
    """ids_first for one budget's narrowed page, with SQL compiled once per (order, filters)
    (PostgreSQL). The rows come back as PageRow."""

    def build(user_id, budget_id, page_limit, page_offset, *values):
        scoped = narrowing.scoped_to_budget(user_id, budget_id, values).order_by(*order)
        return page_values(ids_first(scoped, offset=page_offset, limit=page_limit))

    key = ("transaction-ids-first", order, narrowing.names)
    sql, params = compiled_sql(key, build, user.pk, budget, limit, offset, *narrowing.values)
    with connections[Transaction.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return as_page_rows(cursor.fetchall())


def compiled_page(  # only on postgresql
    user, order: tuple[str, ...], weights: dict[int, int], *, narrowing, offset: int, limit: int, exact: bool
):
    """The page of a list narrowed by COMPILED_FILTERS only, on PostgreSQL: the same window
    and page query as the generic path, compiled once per (order, filters) and run with
    this request's values (server/compiled.py). Its depth is a value too (the window's
    limits are parameters), so a deep page reuses the same SQL. The rows come back as
    PageRow; the shares of the page's splits in one more query when it holds one."""
    budgets, sampled, shares, sparse = window_budgets(weights, offset + limit, unordered=narrowing.unordered)
    walk = walk_of(weights, order, offset + limit, narrowed=narrowing.names, exact=exact)

    def build(user_id, budget_ids, *given):
        if sparse is None:
            sampled_ids, sampled_shares, edge_at, depth, page_limit, page_offset, *values = given
            sparse_ids = None
        else:
            sampled_ids = None
            sampled_shares, sparse_ids, edge_at, depth, page_limit, page_offset, *values = given
        walked = None if walk is None else (values.pop(0), values.pop(0), values.pop(0))
        ids = window_sql(
            narrowing.scoped(user_id, values),
            scope=Budget.objects.visible_pks(caller(user_id)),
            order=order,
            budgets=budget_ids,
            sparse=sparse_ids,
            sampled=sampled_ids,
            shares=sampled_shares,
            edge_at=edge_at,
            depth=depth,
            limit=page_limit,
            offset=page_offset,
            walk=walked,
        )
        unscoped = dangerously_unscoped(
            Transaction, reason="ids from the scoped window; foreign rows dropped"
        )
        return page_values(unscoped.filter(pk__in=ids).order_by(*order))

    values = (
        user.pk,
        array_text(budgets),
        *map(array_text, (sampled, shares) if sparse is None else (shares, sparse)),
        offset + limit - 1,
        offset + limit,
        limit,
        offset,
        *(walk or ()),
        *narrowing.values,
    )
    key = ("transaction-window", order, narrowing.names, sparse is not None, walk is not None)
    sql, params = compiled_sql(key, build, *values)
    with connections[Transaction.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return as_page_rows(cursor.fetchall())


def compiled_counted_page(
    user, order: tuple[str, ...], *, offset: int, limit: int
) -> tuple[int, list]:  # only on postgresql
    """An unnarrowed list's count and page in one statement, compiled once per order
    (PostgreSQL): the caller's budgets with rows and how many each holds, read from the
    counters (as transaction_counts_by_budget reads them), their total, and the window over
    them (window_sql; walked as walk_of walks), with the page's rows. One snapshot for the
    count and the page, and the budgets never travel to Python and back (2,000 of them for
    an adviser). Every row kept is of a budget among the statement's own, the caller's.
    Returns the count and the rows (PageRow); a page past the end has none."""
    walked = order[0].lstrip("-") in WALK_ORDER_FIELDS
    # The row's columns by position (page_values): the order's field, then the id.
    positions = ", ".join(
        f"{PAGE_COLUMNS.index(name.lstrip('-')) + 1} {'DESC' if name.startswith('-') else 'ASC'}"
        for name in order
    )

    def build(user_id, edge_at, depth, page_limit, page_offset, *walk_values):
        head, head_params, body, body_params = _window(
            Transaction.objects.visible_to(caller(user_id)),
            scope=Budget.objects.visible_pks(caller(user_id)),
            order=order,
            budgets=None,
            sparse=None,
            sampled=None,
            shares=None,
            edge_at=edge_at,
            depth=depth,
            limit=page_limit,
            offset=page_offset,
            walk=counted_walk(*walk_values) if walked else None,
        )
        unscoped = dangerously_unscoped(Transaction, reason="ids from the scoped window, of its budgets only")
        # The window's SQL and the statement's own budgets; values are parameters.
        ids = RawSQL(body, body_params)  # noqa: S611
        # A filter on each of the page's rows (IS TRUE: as a join, PostgreSQL read every row of
        # the budgets first, 68,000 for bench-recent).
        table = Transaction._meta.db_table
        own = RawSQL(  # noqa: S611 - fixed SQL
            f'("{table}"."budget_id" IN (SELECT page_budget.id FROM page_budget)) IS TRUE',  # noqa: S608
            (),
            output_field=BooleanField(),
        )
        rows = page_values(unscoped.filter(own, pk__in=ids).order_by())
        rows_sql, rows_params = rows.query.sql_with_params()
        # The count beside each row; with no row (a page past the end), alone.
        # Compiled SQL and fixed positions; values are parameters.
        sql = (
            f"{head} SELECT page_row.*, totals.n FROM totals "  # noqa: S608
            f"LEFT JOIN LATERAL ({rows_sql}) AS page_row ON TRUE ORDER BY {positions}"
        )
        return sql, (*head_params, *rows_params)

    walk_values = (WALK_ENTRIES_PER_BUDGET, WALK_FROM_BUDGETS) if walked else ()
    values = (user.pk, offset + limit - 1, offset + limit, limit, offset, *walk_values)
    sql, params = compiled_sql(("transaction-counted-page", order), build, *values)
    with connections[Transaction.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return rows[0][-1], as_page_rows([row[:-1] for row in rows if row[0] is not None])


@contextmanager
def planned_for_their_values(alias: str, when: bool):
    """The statements sent inside are planned for their values every time, not prepared:
    PostgreSQL's generic plan of a searched list's per-budget count (and window) reads the
    trigram index once per budget (BitmapAnd with the budget's index), since it cannot know
    how common the term is: about 17 ms a budget for "Rail", 30 s for 2,000 budgets, where
    the plan made for the term reads each budget's rows (0.35 s). Other filters' indexes
    lead with the budget, so their prepared plans stay right."""
    connection = connections[alias]
    if not when or connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    driver = connection.connection
    saved = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = saved


# The cursor -------------------------------------------------------------------------------


def _salt(user) -> str:
    return f"{_CURSOR_SALT}:{user.pk}"


def encode_cursor(user, order: tuple[str, ...], value, pk: int) -> str:
    """An opaque position: the order's key, the last row's value in it and its id, signed
    for this caller (a cursor from anyone else, or altered, is refused)."""
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    return signing.Signer(salt=_salt(user)).sign_object([order[0], value, pk])


def decode_cursor(user, token: str, order: tuple[str, ...]):
    """(value, id) of a cursor made by encode_cursor for this caller and this order; a 400
    otherwise. What it holds is only a position: the rows after it are still read through
    the caller's own scope and filters."""
    try:
        key, raw, pk = signing.Signer(salt=_salt(user)).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        raise _invalid_cursor() from None
    if key != order[0] or type(pk) is not int or not 0 < pk < 2**63:
        raise _invalid_cursor()
    field = key.lstrip("-")
    try:
        if field == "date" and isinstance(raw, str):
            return date.fromisoformat(raw), pk
        if field == "created_at" and isinstance(raw, str):
            value = datetime.fromisoformat(raw)
            if value.tzinfo is not None:
                return value, pk
        if field == "amount_minor" and type(raw) is int and -(2**63) <= raw < 2**63:
            return raw, pk
    except ValueError:
        pass
    raise _invalid_cursor()


def _invalid_cursor() -> ValidationError:
    return ValidationError({CURSOR_PARAM: [_INVALID_CURSOR]}, code="invalid")


class TransactionPagination(LimitOffsetPagination):
    """limit/offset: two queries, matching rows per visible budget (the count, and which
    budgets are worth reading) and the page's rows; one for an unnarrowed list on
    PostgreSQL (compiled_counted_page). ``cursor``: the counters (which budgets hold rows;
    no count) and the page's rows."""

    cursor_query_param = CURSOR_PARAM
    schema_error_codes = {CURSOR_PARAM: ("invalid",)}

    def paginate_queryset(self, queryset: FilteredLater, request, view=None):
        """``queryset``: the view's, with its filters validated and applied only when read
        (server.filters.FilteredLater); the statements compiled once never read it."""
        self.request = request
        self.cursor = None
        self.narrowing = narrowing_params(request)
        # Filters that compiled statements can take (PostgreSQL; COMPILE_PAGES), or None.
        compiles = COMPILE_PAGES and connections[queryset.db].vendor == "postgresql"
        self.compiled = narrowing_of(view) if compiles else None
        token = request.query_params.get(self.cursor_query_param, "")
        if token != "":
            return self.paginate_by_cursor(queryset, request, token)
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        # Unnarrowed: the count and the page in one statement (an inactive caller sees none).
        order = _top_n_order(queryset.order)
        user = request.user
        if self.compiled is not None and not self.narrowing and order is not None and is_active_user(user):
            self.count, rows = compiled_counted_page(user, order, offset=self.offset, limit=self.limit)
            return rows
        with planned_for_their_values(queryset.db, "search" in self.narrowing):
            per_budget = self.rows_per_budget(queryset, request)
            self.count = sum(per_budget.values())
            if self.count == 0 or self.offset >= self.count:
                return []
            return self.page(queryset, per_budget, offset=self.offset, limit=self.limit)

    def rows_per_budget(self, listed: FilteredLater, request) -> dict[int, int]:
        """Matching rows per visible budget (budgets with none left out). A search counts in
        one GROUP BY (planned for its term, planned_for_their_values): the trigram index
        holds the budget (migration 0009), so the planner reads either each visible budget's
        matching rows through it (a few hundred budgets: bench-recent's "Rail" 44 to 12 ms)
        or every matching row of the table once (the 2,000-budget adviser), where the
        per-budget count read every row of every budget for a term no row holds (1.4 ms
        against 320 ms for 2,000 budgets and "Railcard")."""
        narrowing = narrowing_params(request)
        if narrowing <= {"budget"}:
            return _counted_rows(request)
        scope = Budget.objects.visible_pks(request.user)
        per_budget_count = "search" not in narrowing and isinstance(scope, RawSQL)
        if connections[listed.db].vendor == "postgresql" and per_budget_count:
            if self.compiled is not None:
                return compiled_count(request.user, self.compiled, listed.db)
            return matching_rows_per_budget(listed.queryset, scope)
        return dict(listed.queryset.order_by().values_list("budget_id").annotate(rows=Count("*")))

    def page(self, listed: FilteredLater, per_budget: dict[int, int], *, offset: int, limit: int, after=None):
        """The page's rows: ``per_budget`` says which budgets may hold matching rows and how
        many (exactly, or at most); ``after`` a position (a cursor's) the rows come after."""
        order = _top_n_order(listed.order)
        scope = Budget.objects.visible_pks(self.request.user)
        vendor = connections[listed.db].vendor
        budgets = sorted(per_budget)
        # SQL compiled once for this request's filters: pages by offset (and a cursor's first).
        compiled = self.compiled if after is None and order is not None else None
        if compiled is not None and len(budgets) == 1:
            user = self.request.user
            return compiled_ids_first(user, order, compiled, budgets[0], offset=offset, limit=limit)
        if compiled is not None and len(budgets) > 1 and isinstance(scope, RawSQL):
            rows = compiled_page(
                self.request.user,
                order,
                per_budget,
                narrowing=compiled,
                offset=offset,
                limit=limit,
                exact=self.cursor is None,
            )
            return [row for row in rows if row.budget_id in per_budget]
        # Built per request from the filtered queryset.
        queryset = listed.queryset
        if after is not None:
            queryset = queryset.filter(after_position(order, *after))
        if vendor != "postgresql" or order is None or len(budgets) <= 1 or not isinstance(scope, RawSQL):
            if len(budgets) == 1:
                # One budget: its (budget, order, id) index gives the page directly.
                queryset = queryset.filter(budget_id=budgets[0])
            return page_rows(ids_first(queryset, offset=offset, limit=limit))
        # Rows by primary key among the page's ids, in one query with them. The scoping
        # predicate is not repeated here: with it, the planner walks the budgets' index and
        # filters (10 ms for a 50,000-row budget against 1 ms by primary key). The ids come
        # from budgets of the caller's scope; a row moved meanwhile to a budget outside the
        # list is dropped, never shown.
        ids = window_page_ids(
            queryset,
            scope=scope,
            weights=per_budget,
            order=order,
            offset=offset,
            limit=limit,
            unordered=not UNORDERED_FILTERS.isdisjoint(self.narrowing),
            narrowed=self.narrowing,
            exact=self.cursor is None,
        )
        unscoped = dangerously_unscoped(
            queryset.model, reason="ids from the scoped window; foreign rows dropped below"
        )
        page = unscoped.filter(pk__in=ids).order_by(*order)
        return [row for row in page_rows(page) if row.budget_id in per_budget]

    # The cursor ---------------------------------------------------------------------------

    def paginate_by_cursor(self, listed: FilteredLater, request, token: str):
        if request.query_params.get(self.offset_query_param, "") != "":
            raise ValidationError(
                {self.offset_query_param: ["Page by offset or by cursor, not both."]}, code="invalid"
            )
        order = _top_n_order(listed.order)
        if order is None:
            raise ValidationError(
                {self.cursor_query_param: ["A cursor pages one ordering field at a time."]}, code="invalid"
            )
        self.limit = self.get_limit(request)
        after = None if token == CURSOR_START else decode_cursor(request.user, token, order)
        # Which budgets hold rows, from the counters (no row is counted): the budget filter's
        # one budget, or every visible budget with rows.
        weights = _counted_rows(request)
        self.cursor = {"next": None}
        if not weights:
            return []
        with planned_for_their_values(listed.db, "search" in self.narrowing):
            rows = self.page(listed, weights, offset=0, limit=self.limit + 1, after=after)
        # The next position is the page's last row, shown or (moved meanwhile) not.
        if len(rows) > self.limit:
            last = rows[self.limit - 1]
            field = order[0].lstrip("-")
            self.cursor["next"] = encode_cursor(request.user, order, getattr(last, field), last.pk)
            rows = rows[: self.limit]
        return [row for row in rows if row.budget_id in weights]

    def get_paginated_response(self, data):
        if self.cursor is None:
            return super().get_paginated_response(data)
        return Response({"next": self.get_next_cursor_link(), "previous": None, "results": data})

    def get_next_cursor_link(self) -> str | None:
        if self.cursor["next"] is None:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.cursor_query_param, self.cursor["next"])

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["next", "previous", "results"]
        response["properties"]["count"]["description"] = (
            "How many rows match, in all. Left out when paging by cursor."
        )
        response["properties"]["next"]["description"] = (
            "The next page: by offset, or (paging by cursor) by the next cursor; null after the last page."
        )
        response["properties"]["previous"]["description"] = (
            "The previous page by offset; always null when paging by cursor."
        )
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Page by cursor instead of offset, for walking every row: `start` for the first "
                    "page, then follow `next` (which carries the next cursor) until it is null. No "
                    "`count`, and the rows stay in order when others are added meanwhile. A cursor "
                    "is opaque, for the caller it was given to and the ordering it was made for; "
                    "not with `offset`."
                ),
                "schema": {"type": "string"},
            }
        )
        return parameters


def ids_first(queryset, *, offset: int, limit: int):
    """The page of ``queryset`` (filtered, ordered), its ids chosen first: the inner query reads
    the order and the filters off a (budget, …) index, and only the page's rows are joined to
    their budget, recorder and split. Sliced with its joins, PostgreSQL joined every matching
    row before the top-N sort: the 3-month filter's 2,057 rows, 5.3 ms against 1.6 (EXPLAIN in
    docs/performance.md). One statement, so the ids and their rows are of one snapshot. The
    limit and offset are parameters, so that compiled_ids_first can stand placeholders in."""
    order = tuple(queryset.query.order_by) or tuple(queryset.model._meta.ordering)
    ids_sql, ids_params = _with_limit(queryset.order_by(*order).values("pk"), "%s OFFSET %s")
    # The ORM's compiled SQL; values are parameters.
    ids = RawSQL(ids_sql, (*ids_params, limit, offset))  # noqa: S611
    unscoped = dangerously_unscoped(queryset.model, reason="ids from the scoped, filtered query")
    return unscoped.filter(pk__in=ids).order_by(*order)


def narrowing_params(request) -> set[str]:
    """The query parameters that narrow the rows (an empty value is a filter left out)."""
    return {name for name, value in request.query_params.items() if value != ""} - NOT_NARROWING


def _counted_rows(request) -> dict[int, int]:
    """Rows per visible budget from the counters (budgets with none left out); only the
    ``budget`` filter's budget when the request names one."""
    counts = transaction_counts_by_budget(user=request.user)
    raw = request.query_params.get("budget", "")
    if raw == "":
        return counts
    # The filter has already accepted this value as a visible budget (or answered 400);
    # int() reads it as the filter's lookup did.
    budget = int(raw)
    return {budget: counts[budget]} if budget in counts else {}
