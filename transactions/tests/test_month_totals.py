"""Per-(budget, month, kind, category) totals kept by database triggers, and the monthly report
read from them.

Every test in the suite also ends with each month total equal to its rows (the
``_transaction_counts_stay_exact`` fixture in conftest.py); here a random sequence of every
write path (API create, update, move, delete, bulk, import; the ORM's bulk_create, update and
delete; a category's SET NULL; a budget's cascade) is checked step by step, both the totals
and the report against the report computed from the rows as it was before the totals.
"""

import calendar
import datetime
import random

import pytest
from django.db import connection
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from budgets.models import Budget, Category
from budgets.tests.factories import BudgetFactory, CategoryFactory
from conftest import month_total_drift
from money.amounts import format_amount
from server.tests.helpers import MigrationEditor
from transactions import month_totals
from transactions.models import BudgetMonthTotal, Kind, Transaction
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import BULK, IMPORT_HEADER, LIST, detail_url, import_csv, report_url

pytestmark = pytest.mark.django_db

D = datetime.date


def reference_report(budget: Budget, first_month: datetime.date, last_month: datetime.date) -> dict:
    """The monthly report as selectors computed it before the month totals: straight from
    the transaction rows, grouped by TruncMonth."""
    last_day = last_month.replace(day=calendar.monthrange(last_month.year, last_month.month)[1])
    in_range = Transaction.objects.filter(budget=budget, date__gte=first_month, date__lte=last_day).order_by()
    expense, income = Q(kind=Kind.EXPENSE), Q(kind=Kind.INCOME)
    totals = (
        in_range.annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(income=Sum("amount_minor", filter=income), expenses=Sum("amount_minor", filter=expense))
    )
    per_category = (
        in_range.filter(expense)
        .annotate(month=TruncMonth("date"))
        .values("month", "category_id")
        .annotate(expenses=Sum("amount_minor"))
    )
    names = dict(budget.categories.values_list("pk", "name"))

    def key(value):
        return f"{value.year:04d}-{value.month:02d}"

    by_month = {key(r["month"]): r for r in totals}
    categories_by_month: dict = {}
    for r in per_category:
        categories_by_month.setdefault(key(r["month"]), []).append(r)
    start, end = first_month.year * 12 + first_month.month - 1, last_month.year * 12 + last_month.month - 1
    months = []
    for n in range(start, end + 1):
        month = key(D(n // 12, n % 12 + 1, 1))
        row = by_month.get(month, {})
        inc, exp = row.get("income") or 0, row.get("expenses") or 0
        cats = sorted(
            categories_by_month.get(month, []),
            key=lambda r: (r["category_id"] is None, names.get(r["category_id"], ""), r["category_id"] or 0),
        )
        months.append(
            {
                "month": month,
                "income": format_amount(inc, budget.currency),
                "expenses": format_amount(exp, budget.currency),
                "net": format_amount(inc - exp, budget.currency),
                "by_category": [
                    {
                        "id": r["category_id"],
                        "name": names.get(r["category_id"]) if r["category_id"] else None,
                        "expenses": format_amount(r["expenses"], budget.currency),
                    }
                    for r in cats
                ],
            }
        )
    return {"currency": budget.currency, "from": key(first_month), "to": key(last_month), "months": months}


def test_the_three_triggers_are_installed():
    assert month_totals.installed_triggers(connection) == set(month_totals.TRIGGERS)


def test_a_key_emptied_is_deleted_and_a_category_deleted_moves_its_total_to_none():
    budget = BudgetFactory()
    food = CategoryFactory(budget=budget, name="Food")
    first = TransactionFactory(budget=budget, category=food, amount_minor=500, date=D(2026, 3, 9))
    TransactionFactory(budget=budget, category=food, amount_minor=250, date=D(2026, 3, 31))
    assert list(
        BudgetMonthTotal.objects.values_list("month", "kind", "category_key", "total_minor", "entries")
    ) == [(D(2026, 3, 1), "expense", food.pk, 750, 2)]
    food.delete()
    assert list(BudgetMonthTotal.objects.values_list("category_key", "total_minor", "entries")) == [
        (0, 750, 2)
    ]
    first.delete()
    Transaction.objects.filter(budget=budget).update(date=D(2026, 4, 1))
    assert list(BudgetMonthTotal.objects.values_list("month", "total_minor", "entries")) == [
        (D(2026, 4, 1), 250, 1)
    ]
    Transaction.objects.filter(budget=budget).delete()
    assert not BudgetMonthTotal.objects.exists()


def test_deleting_a_budget_deletes_its_totals_and_no_other():
    kept, gone = BudgetFactory(), BudgetFactory()
    TransactionFactory(budget=kept)
    TransactionFactory.create_batch(3, budget=gone)
    gone.delete()
    assert list(BudgetMonthTotal.objects.values_list("budget_id", "entries")) == [(kept.pk, 1)]


def test_the_migration_backfills_the_rows_already_there_and_reinstalls_on_sqlite():
    budget = BudgetFactory()
    TransactionFactory.create_batch(3, budget=budget, amount_minor=100)
    editor = MigrationEditor()
    month_totals.uninstall(None, editor)
    assert month_totals.installed_triggers(connection) == set()
    BudgetMonthTotal.objects.all().delete()
    month_totals.install(None, editor)
    assert month_totals.installed_triggers(connection) == set(month_totals.TRIGGERS)
    assert list(BudgetMonthTotal.objects.values_list("total_minor", "entries")) == [(300, 3)]
    month_totals.reinstall_on_sqlite(None, editor)
    assert month_totals.installed_triggers(connection) == set(month_totals.TRIGGERS)


def test_the_report_reads_the_totals_not_the_rows():
    budget = BudgetFactory()
    TransactionFactory(budget=budget, amount_minor=1_000, date=D(2026, 2, 14))
    # Skewed on purpose: the report shows what the totals say.
    BudgetMonthTotal.objects.filter(budget=budget).update(total_minor=1_234)
    body = _report(BudgetFactory._meta.model.objects.get(pk=budget.pk), "2026-02", "2026-02")
    assert body["months"][0]["expenses"] == "12.34"
    BudgetMonthTotal.objects.filter(budget=budget).update(total_minor=1_000)


def _report(budget, first: str, last: str) -> dict:
    from transactions.selectors import budget_monthly_report

    y1, m1 = map(int, first.split("-"))
    y2, m2 = map(int, last.split("-"))
    return budget_monthly_report(budget=budget, first_month=D(y1, m1, 1), last_month=D(y2, m2, 1))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_writes_keep_totals_and_report_equal_to_the_rows(client_for, seed):
    rng = random.Random(seed)
    eur = BudgetFactory(currency="EUR", name="Home")
    owner = eur.owner
    eur2 = BudgetFactory(currency="EUR", owner=owner, name="Holiday")
    yen = BudgetFactory(currency="JPY", owner=owner, name="Tokyo")
    budgets = [eur, eur2, yen]
    for budget in budgets:
        for name in ("Food", "Rent", "Fun"):
            CategoryFactory(budget=budget, name=f"{name} {budget.name}")
    api = client_for(owner)
    days = [D(2025, 12, 31), D(2026, 1, 1), D(2026, 1, 31), D(2026, 2, 1), D(2026, 2, 28), D(2026, 3, 15)]

    def amount(budget) -> str:
        return (
            str(rng.randint(1, 5000))
            if budget.currency == "JPY"
            else f"{rng.randint(1, 5000)}.{rng.randint(0, 99):02d}"
        )

    def category(budget):
        options = list(Category.objects.filter(budget=budget).values_list("pk", flat=True))
        return rng.choice([None, *options])

    def body(budget) -> dict:
        return {
            "budget": budget.pk,
            "category": category(budget),
            "kind": rng.choice(["expense", "expense", "income"]),
            "amount": amount(budget),
            "date": rng.choice(days).isoformat(),
            "payee": f"p{rng.randint(0, 10**6)}",
        }

    def some_transaction():
        ids = list(Transaction.objects.filter(budget__owner=owner).values_list("pk", flat=True))
        return Transaction.objects.get(pk=rng.choice(ids)) if ids else None

    def api_create():
        assert api.post(LIST, body(rng.choice(budgets)), format="json").status_code == 201

    def api_bulk():
        budget = rng.choice(budgets)
        items = [body(budget) for _ in range(rng.randint(1, 12))]
        assert api.post(BULK, items, format="json").status_code == 201

    def api_import():
        budget = rng.choice(budgets)
        kinds = ["expense", "income"]
        lines = [
            f"{rng.choice(days)},{amount(budget)},{rng.choice(kinds)},,imp{rng.randint(0, 10**6)},,"
            for _ in range(rng.randint(1, 8))
        ]
        assert import_csv(api, budget.pk, IMPORT_HEADER + "\n".join(lines) + "\n").status_code == 201

    def api_update():
        tx = some_transaction()
        if tx is None:
            return
        change = rng.choice(["amount", "kind", "date", "category", "move", "payee"])
        if change == "move":
            target = eur2 if tx.budget_id == eur.pk else eur if tx.budget_id == eur2.pk else yen
            data = {"budget": target.pk, "category": None}
        elif change == "amount":
            data = {"amount": amount(tx.budget)}
        elif change == "kind":
            data = {"kind": "income" if tx.kind == "expense" else "expense"}
        elif change == "date":
            data = {"date": rng.choice(days).isoformat()}
        elif change == "category":
            data = {"category": category(tx.budget)}
        else:
            data = {"payee": "renamed"}
        response = api.patch(detail_url(tx.pk), data, format="json")
        assert response.status_code == 200, response.json()

    def api_delete():
        tx = some_transaction()
        if tx is not None:
            assert api.delete(detail_url(tx.pk)).status_code == 204

    def orm_bulk_create():
        budget = rng.choice(budgets)
        cats = [category(budget) for _ in range(5)]
        Transaction.objects.bulk_create(
            Transaction(
                budget=budget,
                category_id=rng.choice(cats),
                kind=rng.choice(["expense", "income"]),
                amount_minor=rng.randint(1, 10**6),
                date=rng.choice(days),
            )
            for _ in range(rng.randint(1, 30))
        )

    def orm_update():
        budget = rng.choice(budgets)
        rows = Transaction.objects.filter(budget=budget, date=rng.choice(days))
        rng.choice(
            [
                lambda: rows.update(date=rng.choice(days)),
                lambda: rows.update(kind=rng.choice(["expense", "income"])),
                lambda: rows.update(category=None),
                lambda: rows.update(budget=rng.choice(budgets), category=None),  # even across currencies
                lambda: rows.update(amount_minor=rng.randint(1, 999)),
                lambda: rows.update(notes="bulk note"),
            ]
        )()

    def orm_delete():
        Transaction.objects.filter(budget=rng.choice(budgets), kind=rng.choice(["expense", "income"])).filter(
            date=rng.choice(days)
        ).delete()

    def delete_category():
        victim = Category.objects.filter(budget__in=budgets).order_by("?").first()
        if victim is not None:
            victim.delete()
            CategoryFactory(budget=victim.budget, name=f"New {rng.randint(0, 10**6)}")

    def delete_budget():
        if len(budgets) > 2 and rng.random() < 0.3:
            victim = budgets.pop(rng.randrange(len(budgets)))
            victim.delete()

    steps = [
        api_create,
        api_bulk,
        api_import,
        api_update,
        api_update,
        api_delete,
        orm_bulk_create,
        orm_update,
        orm_delete,
        delete_category,
        delete_budget,
    ]
    for _ in range(6):
        api_bulk()
    for step_number in range(60):
        step = rng.choice(steps)
        step()
        assert month_total_drift() == {}, (step_number, step.__name__)
        if step_number % 10 == 9:
            for budget in budgets:
                budget.refresh_from_db()
                expected = reference_report(budget, D(2025, 12, 1), D(2026, 3, 1))
                assert _report(budget, "2025-12", "2026-03") == expected
                response = api.get(report_url(budget.pk), {"from": "2025-12", "to": "2026-03"})
                assert response.json() == expected
    assert BudgetMonthTotal.objects.filter(entries=0).count() == 0
