"""Per-budget transaction counts kept by database triggers, and the list counts read from them.

Every test in the suite also ends with each budget's counter equal to its rows (the
``_transaction_counts_stay_exact`` fixture in conftest.py); these tests name the write
paths one by one and show which list requests read the counters.
"""

import datetime

import pytest
from django.db import connection, transaction

from budgets.tests.factories import BudgetFactory, CategoryFactory
from server.tests.helpers import MigrationEditor
from transactions import counting
from transactions.models import BudgetTransactionCount, Transaction
from transactions.tests.factories import TransactionFactory
from transactions.tests.helpers import BULK, IMPORT_HEADER, LIST, detail_url, import_csv, payload

pytestmark = pytest.mark.django_db


def counted(budget) -> int:
    row = BudgetTransactionCount.objects.filter(budget=budget).first()
    return 0 if row is None else row.total


def test_the_three_triggers_are_installed():
    assert counting.installed_triggers(connection) == set(counting.TRIGGERS)


def test_api_writes_keep_the_count(world, as_):
    owner = as_("owner")
    assert counted(world.budget) == 3
    created = owner.post(LIST, payload(world.budget), format="json")
    assert created.status_code == 201
    assert counted(world.budget) == 4
    assert owner.post(BULK, [payload(world.budget)] * 5, format="json").status_code == 201
    assert counted(world.budget) == 9
    assert (
        import_csv(owner, world.budget.pk, IMPORT_HEADER + "2026-01-02,1.00,expense,,Shop,,\n").status_code
        == 201
    )
    assert counted(world.budget) == 10
    assert owner.patch(detail_url(created.data["id"]), {"payee": "Baker"}, format="json").status_code == 200
    assert counted(world.budget) == 10
    assert owner.delete(detail_url(created.data["id"])).status_code == 204
    assert counted(world.budget) == 9
    assert counted(world.foreign_budget) == 1


def test_moving_a_transaction_moves_its_count(world, as_):
    other = BudgetFactory(owner=world.owner, currency="EUR")
    response = as_("owner").patch(detail_url(world.salary.pk), {"budget": other.pk}, format="json")
    assert response.status_code == 200
    assert (counted(world.budget), counted(other)) == (2, 1)
    # And back, to a budget with a lower id (the trigger locks counters in id order).
    response = as_("owner").patch(detail_url(world.salary.pk), {"budget": world.budget.pk}, format="json")
    assert response.status_code == 200
    assert (counted(world.budget), counted(other)) == (3, 0)


def test_a_refused_bulk_create_counts_nothing(world, as_):
    items = [payload(world.budget), payload(world.budget, amount="-1")]
    assert as_("owner").post(BULK, items, format="json").status_code == 400
    assert counted(world.budget) == 3


def test_a_rolled_back_write_leaves_the_count(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        TransactionFactory.create_batch(4, budget=world.budget)
        raise RuntimeError("abandon")
    assert counted(world.budget) == 3


def test_statements_over_several_budgets_count_per_budget(world):
    first, second = BudgetFactory(owner=world.owner), BudgetFactory(owner=world.owner)
    rows = [
        Transaction(budget=b, kind="expense", amount_minor=1, date=datetime.date(2026, 1, 1))
        for b in (first,) * 3 + (second,) * 2
    ]
    Transaction.objects.bulk_create(rows)
    assert (counted(first), counted(second)) == (3, 2)
    Transaction.objects.filter(budget=first).update(budget=second)
    assert (counted(first), counted(second)) == (0, 5)
    Transaction.objects.filter(budget__in=[first, second, world.budget]).delete()
    assert (counted(first), counted(second), counted(world.budget)) == (0, 0, 0)
    assert counted(world.foreign_budget) == 1


def test_deleting_a_category_keeps_the_count(world, as_):
    assert as_("owner").delete(f"/api/v1/categories/{world.food.pk}/").status_code == 204
    assert counted(world.budget) == 3


def test_deleting_a_budget_or_its_owner_removes_the_counter(world, as_):
    assert as_("owner").delete(f"/api/v1/budgets/{world.budget.pk}/").status_code == 204
    assert not BudgetTransactionCount.objects.filter(budget_id=world.budget.pk).exists()
    world.stranger.delete()
    assert not BudgetTransactionCount.objects.filter(budget_id=world.foreign_budget.pk).exists()
    assert BudgetTransactionCount.objects.count() == 0


def test_a_negative_count_is_refused_by_the_database(world):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetTransactionCount.objects.filter(budget=world.budget).update(total=-1)


def _skew_counter(budget, by: int) -> None:
    """Makes the counter disagree with the rows, to show which requests read it."""
    BudgetTransactionCount.objects.filter(budget=budget).update(total=counted(budget) + by)


@pytest.mark.parametrize(
    "query",
    ["", "?limit=1", "?offset=1&ordering=-amount", "?kind=&search=&date_after=", "?budget={budget}"],
)
def test_unnarrowed_lists_count_from_the_counters(world, as_, query, counts_unchecked):
    _skew_counter(world.budget, by=100)
    response = as_("viewer").get(LIST + query.format(budget=world.budget.pk))
    assert response.status_code == 200
    assert response.data["count"] == 103


@pytest.mark.parametrize(
    "query",
    [
        "?kind=expense",
        "?date_after=2026-01-01",
        "?category={food}",
        "?search=Market",
        "?amount_min=0",
        "?unknown=1",
    ],
)
def test_narrowed_lists_count_the_matching_rows(world, as_, query, counts_unchecked):
    _skew_counter(world.budget, by=100)
    response = as_("owner").get(LIST + query.format(food=world.food.pk))
    assert response.status_code == 200
    expected = {"?kind=expense": 2, "?category={food}": 1, "?search=Market": 1}.get(query, 3)
    assert response.data["count"] == expected
    assert len(response.data["results"]) == expected


@pytest.mark.parametrize("actor", ["member", "stranger", "staff", "global_perms"])
def test_counters_of_budgets_not_shared_with_me_never_reach_my_count(world, as_, actor):
    BudgetFactory(owner=world.owner)  # a counter-less budget of the owner's, too
    response = as_(actor).get(LIST)
    expected = 1 if actor == "stranger" else 0
    assert response.data["count"] == expected
    assert len(response.data["results"]) == expected
    response = as_(actor).get(f"{LIST}?budget={world.budget.pk}")
    assert response.status_code == 400


def test_a_budget_filter_on_a_budget_without_rows_counts_zero(world, as_):
    empty = BudgetFactory(owner=world.owner)
    CategoryFactory(budget=empty)
    response = as_("owner").get(f"{LIST}?budget={empty.pk}")
    assert response.status_code == 200
    assert (response.data["count"], response.data["results"]) == (0, [])


def test_the_migration_step_reverses_and_reinstalls_with_exact_counts(world):
    counting.uninstall(None, MigrationEditor())
    assert counting.installed_triggers(connection) == set()
    TransactionFactory(budget=world.budget)  # uncounted while the triggers are gone
    counting.install(None, MigrationEditor())
    assert counting.installed_triggers(connection) == set(counting.TRIGGERS)
    assert counted(world.budget) == 4  # the backfill counted it
    TransactionFactory(budget=world.budget)
    assert counted(world.budget) == 5


def test_other_databases_are_refused():
    with pytest.raises(NotImplementedError, match="mysql"):
        counting._statements("mysql", install=True)
