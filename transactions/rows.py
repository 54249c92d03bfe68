"""A transaction as plain values: what the list's page and a retrieve show.

Model instances (and Django's prefetch for a split's shares) cost more Python than the
SQL of a page takes to run; a PageRow carries the same values, with the budget's currency,
the recorder's email and the split read in the same query, and TransactionSerializer
shows it exactly as it shows an instance (transactions/tests/test_serializers.py).
"""

import json
from decimal import Decimal
from typing import NamedTuple

from django.db import connections
from django.db.models import Case, TextField, When
from django.db.models.expressions import RawSQL

from permissions.scoping import caller
from server.compiled import compiled_sql
from transactions.models import SplitShare, Transaction


class SplitRow(NamedTuple):
    household_id: int
    paid_by_id: int | None
    mode: str
    shares: list


class ShareRow(NamedTuple):
    user_id: int | None
    amount_minor: int
    weight: object  # Decimal or None


class PageRow(NamedTuple):
    """One transaction as plain values: what TransactionSerializer shows, with the budget's
    currency, the recorder's email and the split read in the same query."""

    pk: int
    budget_id: int
    category_id: int | None
    kind: str
    amount_minor: int
    date: object
    payee: str
    description: str
    notes: str
    created_by_id: int | None
    created_at: object
    updated_at: object
    version: int
    budget_currency: str
    recorder_email: str | None
    split: SplitRow | None


# The page's columns, in PageRow's order up to the split's (which become a SplitRow).
PAGE_COLUMNS = (
    *("id", "budget_id", "category_id", "kind", "amount_minor", "date", "payee", "description", "notes"),
    *("created_by_id", "created_at", "updated_at", "version", "budget__currency", "created_by__email"),
    *("split__household", "split__paid_by", "split__mode"),
)
_SPLIT_AT = PAGE_COLUMNS.index("split__household")


# A row's split's shares as JSON text, [[user, amount, weight as text], ...] in user order (NULL
# for a row without a split), read in the page's own statement (PostgreSQL).
_SHARES = (
    "(SELECT json_agg(json_build_array(share.user_id, share.amount_minor, share.weight::text) "
    'ORDER BY share.user_id)::text FROM "transactions_splitshare" AS share '
    'WHERE share.split_id = "transactions_transaction"."id")'
)


def page_values(queryset):
    """``queryset``'s rows as PAGE_COLUMNS tuples; on PostgreSQL with one more column, the
    shares of each row's split (_SHARES), so that no second query reads them."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset.values_list(*PAGE_COLUMNS)
    shares = RawSQL(_SHARES, (), output_field=TextField())  # noqa: S611 - fixed SQL, no value
    # Only for a row with a split (the page's own join): most rows have none.
    shares = Case(When(split__household__isnull=False, then=shares), output_field=TextField())
    return queryset.annotate(split_shares=shares).values_list(*PAGE_COLUMNS, "split_shares")


def page_rows(queryset) -> list[PageRow]:
    """The page's rows (``queryset`` is sliced and ordered): one query for the rows with
    their budget's currency, recorder and split (joins on primary keys) and, on
    PostgreSQL, the splits' shares; elsewhere one more query for those, only when the page
    holds a split."""
    return as_page_rows(list(page_values(queryset)))


def as_page_rows(rows: list[tuple]) -> list[PageRow]:
    """page_values tuples as PageRows, with their splits' shares: from the rows' own last
    column, or from read_shares (one query, only when a row has a split)."""
    split_ids = [row[0] for row in rows if row[_SPLIT_AT + 2] is not None]
    shares: dict[int, list[ShareRow]] = {pk: [] for pk in split_ids}
    if rows and len(rows[0]) > len(PAGE_COLUMNS):
        for row in rows:
            if row[_SPLIT_AT + 2] is not None:
                shares[row[0]] = [
                    ShareRow(user, amount, None if weight is None else Decimal(weight))
                    for user, amount, weight in json.loads(row[-1] or "[]")
                ]
    elif split_ids:
        for split_id, *share in read_shares(split_ids):
            shares[split_id].append(ShareRow(*share))
    return [
        PageRow(
            *row[:_SPLIT_AT],
            None
            if row[_SPLIT_AT + 2] is None
            else SplitRow(*row[_SPLIT_AT : len(PAGE_COLUMNS)], shares[row[0]]),
        )
        for row in rows
    ]


def transaction_row(user, pk: int) -> "PageRow | None":
    """The transaction ``pk`` if ``user`` may view it, as a PageRow; None otherwise. Its SQL
    goes through visible_to (with a stand-in for the caller's id) and is compiled once."""
    if not 0 < pk < 2**63:
        return None  # no such id: the column is a bigint

    def build(user_id, row_id):
        return page_values(Transaction.objects.visible_to(caller(user_id)).filter(pk=row_id))

    sql, params = compiled_sql(("transaction-row",), build, user.pk, pk)
    with connections[Transaction.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = as_page_rows(cursor.fetchall())
    return rows[0] if rows else None


def read_shares(split_ids: list[int]) -> list[tuple]:
    """The shares of these splits as (split_id, user_id, amount_minor, weight), in split then
    user order; on PostgreSQL from SQL compiled once (the ids travel as one array)."""
    if connections[SplitShare.objects.db].vendor != "postgresql":
        return list(
            SplitShare.objects.filter(split_id__in=split_ids)
            .order_by("split_id", "user_id")
            .values_list("split_id", "user_id", "amount_minor", "weight")
        )
    sql, params = compiled_sql(
        ("split-shares-of-page",),
        lambda ids: (
            SplitShare.objects.filter(split_id__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))
            .order_by("split_id", "user_id")
            .values_list("split_id", "user_id", "amount_minor", "weight")
        ),
        split_ids,
    )
    with connections[SplitShare.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
