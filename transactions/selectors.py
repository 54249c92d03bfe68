"""Reads that aggregate transactions: a budget's period summary and monthly report.

Sums run in the database over integer minor units, so they are exact on both
SQLite and PostgreSQL; the API renders them with the currency's minor units.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections
from django.db.models import Q, Sum

from budgets.models import Budget
from money.amounts import format_amount
from permissions.scoping import caller, is_active_user
from server.compiled import compiled_sql
from transactions.models import BudgetMonthTotal, BudgetTransactionCount, Kind, Transaction

EXPENSE = Q(kind=Kind.EXPENSE)
INCOME = Q(kind=Kind.INCOME)


def transaction_counts_by_budget(*, user) -> dict[int, int]:
    """How many transactions each budget the caller can view holds (budgets with none
    left out), from the counters the database keeps: no transaction row is read. Every
    list asks it, so its SQL is compiled once (server/compiled.py)."""
    if not is_active_user(user):
        return {}

    def build(user_id):
        visible = Budget.objects.visible_pks(caller(user_id))
        return BudgetTransactionCount.objects.filter(budget_id__in=visible, total__gt=0).values_list(
            "budget_id", "total"
        )

    sql, params = compiled_sql(("transaction-counts",), build, user.pk)
    with connections[BudgetTransactionCount.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _percent(part: int, whole: int) -> str:
    if not whole:
        return "0.00"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def budget_summary(*, budget: Budget, on_date: date) -> dict:
    """The period containing ``on_date``: totals and per-category spending, in two queries.

    The sums group the period's rows by category in one pass over the (budget, date)
    index (index-only on PostgreSQL: it includes kind, amount and category); the budget's
    categories are read separately, so a category's older rows are never touched."""
    start, end = budget.period_bounds(on_date)
    groups = (
        Transaction.objects.filter(budget=budget, date__gte=start, date__lte=end)
        .order_by()
        .values_list("category_id")
        .annotate(spent=Sum("amount_minor", filter=EXPENSE), income=Sum("amount_minor", filter=INCOME))
    )
    spent_by_category = {}
    spent = income = 0
    for category_id, cat_spent, cat_income in groups:
        spent_by_category[category_id] = cat_spent or 0
        spent += cat_spent or 0
        income += cat_income or 0
    categories = budget.categories.order_by("name", "id")
    currency = budget.currency
    by_category, categorised = [], 0
    for category in categories:
        cat_spent = spent_by_category.get(category.pk, 0)
        categorised += cat_spent
        remaining = None if category.allocated_minor is None else category.allocated_minor - cat_spent
        by_category.append(
            {
                "id": category.pk,
                "name": category.name,
                "allocated": format_amount(category.allocated_minor, currency),
                "spent": format_amount(cat_spent, currency),
                "remaining": format_amount(remaining, currency),
            }
        )
    return {
        "period_start": start,
        "period_end": end,
        "currency": currency,
        "amount": format_amount(budget.amount_minor, currency),
        "spent": format_amount(spent, currency),
        "income": format_amount(income, currency),
        "remaining": format_amount(budget.amount_minor - spent, currency),
        "percent_used": _percent(spent, budget.amount_minor),
        "by_category": by_category,
        "uncategorised_spent": format_amount(spent - categorised, currency),
    }


def _months(first: date, last: date) -> list[date]:
    """The first day of every month from ``first`` to ``last``, inclusive; never builds
    the month after ``last`` (there is none after 9999-12)."""
    start, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [date(n // 12, n % 12 + 1, 1) for n in range(start, end + 1)]


def budget_monthly_report(*, budget: Budget, first_month: date, last_month: date) -> dict:
    """Income, expenses, net and expenses by category per month, in two queries: the
    budget's month totals (BudgetMonthTotal, kept by triggers: at most one row per month,
    kind and category, whatever the number of transactions) and its category names."""
    totals = BudgetMonthTotal.objects.filter(
        budget=budget, month__gte=first_month, month__lte=last_month, entries__gt=0
    ).values_list("month", "kind", "category_key", "total_minor")
    income_by_month: dict[str, int] = {}
    expenses_by_month: dict[str, int] = {}
    categories_by_month: dict[str, list[tuple[int | None, int]]] = {}
    for month, kind, category_key, total in totals:
        key = _month_key(month)
        if kind == Kind.INCOME:
            income_by_month[key] = income_by_month.get(key, 0) + total
        else:
            expenses_by_month[key] = expenses_by_month.get(key, 0) + total
            categories_by_month.setdefault(key, []).append((category_key or None, total))
    names = dict(budget.categories.values_list("pk", "name"))
    currency = budget.currency
    months = []
    for month in _months(first_month, last_month):
        key = _month_key(month)
        income, expenses = income_by_month.get(key, 0), expenses_by_month.get(key, 0)
        cats = sorted(
            categories_by_month.get(key, []),
            key=lambda r: (r[0] is None, names.get(r[0], ""), r[0] or 0),
        )
        months.append(
            {
                "month": key,
                "income": format_amount(income, currency),
                "expenses": format_amount(expenses, currency),
                "net": format_amount(income - expenses, currency),
                "by_category": [
                    {
                        "id": category_id,
                        "name": names.get(category_id) if category_id else None,
                        "expenses": format_amount(spent, currency),
                    }
                    for category_id, spent in cats
                ],
            }
        )
    return {
        "currency": currency,
        "from": _month_key(first_month),
        "to": _month_key(last_month),
        "months": months,
    }


def _month_key(value) -> str:
    """YYYY-MM, zero-padded before the year 1000 too (glibc's strftime("%Y") is not)."""
    return f"{value.year:04d}-{value.month:02d}"
