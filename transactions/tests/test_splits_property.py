"""The arithmetic of shared costs: the rounding table, and properties over random splits in
EUR, JPY and BHD with every mode, through the service and the database aggregates: the shares
sum to each amount, each currency's nets sum to zero, and the simplified debts settle every
net exactly."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, share_household
from households.tests.factories import add_member, make_household
from transactions.models import Kind, SplitMode, SplitShare
from transactions.splits.allocation import allocate, nets, pairwise, simplify
from transactions.splits.selectors import household_debts, member_nets
from transactions.splits.services import SplitWriter
from transactions.tests.factories import TransactionFactory

# --- the rounding table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (1000, [(1, 1), (2, 1), (3, 1)], {1: 334, 2: 333, 3: 333}),  # 10.00 EUR among 3
        (1000, [(3, 1), (1, 1), (2, 1)], {1: 334, 2: 333, 3: 333}),  # order sent does not matter
        (1, [(1, 1), (2, 1), (3, 1)], {1: 1, 2: 0, 3: 0}),  # 0.01 among 3
        (2, [(5, 1), (9, 1), (7, 1)], {5: 1, 7: 1, 9: 0}),  # ties by ascending id
        (100, [(1, 1), (2, 1), (3, 1)], {1: 34, 2: 33, 3: 33}),  # 100 JPY
        (
            1000,
            [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1)],
            {1: 167, 2: 167, 3: 167, 4: 167, 5: 166, 6: 166},
        ),
        # Largest remainder beats the id: 1.00 by 1:2 is 33.33 / 66.67, the cent goes to the 0.67.
        (100, [(1, 1), (2, 2)], {1: 33, 2: 67}),
        (
            1000,
            [(1, Decimal("33.33")), (2, Decimal("33.33")), (3, Decimal("33.34"))],
            {1: 333, 2: 333, 3: 334},
        ),
        (1000, [(1, Decimal("12.5")), (2, Decimal("87.5"))], {1: 125, 2: 875}),
        (1000, [(1, 0), (2, 1)], {1: 0, 2: 1000}),
        (0, [(1, 1), (2, 1)], {1: 0, 2: 0}),
    ],
)
def test_rounding_table(total, weights, expected):
    assert allocate(total, weights) == expected
    assert sum(expected.values()) == total


def test_simplify_pays_the_largest_creditor_from_the_largest_debtor_ties_by_id():
    assert simplify({1: 500, 2: 500, 3: -600, 4: -400}) == [(3, 1, 500), (4, 2, 400), (3, 2, 100)]
    assert simplify({7: 10, 3: 10, 5: -20}) == [(5, 3, 10), (5, 7, 10)]
    assert simplify({}) == []
    with pytest.raises(ValueError):
        simplify({1: 1})


def test_pairwise_nets_each_pair_and_drops_what_cancels():
    assert pairwise([(2, 1, 300), (1, 2, 100), (3, 1, 50), (3, 1, -50), (1, 1, 9)]) == [(2, 1, 200)]
    assert pairwise([(None, 1, 5)]) == [(None, 1, 5)]  # a deleted account still owes


# --- properties through the database --------------------------------------------------------

PLACES = {"EUR": 2, "JPY": 0, "BHD": 3}


@st.composite
def splits(draw, members: int):
    mode = draw(st.sampled_from(list(SplitMode.values)))
    kind = draw(st.sampled_from([Kind.EXPENSE, Kind.INCOME]))
    total = draw(st.integers(min_value=1, max_value=10**12 - 1))
    payer = draw(st.integers(min_value=0, max_value=members - 1))
    chosen = draw(st.lists(st.integers(0, members - 1), min_size=1, max_size=members, unique=True))
    if mode == SplitMode.EQUAL:
        values = [None] * len(chosen)
    elif mode == SplitMode.EXACT:
        cuts = sorted(
            draw(st.lists(st.integers(0, total), min_size=len(chosen) - 1, max_size=len(chosen) - 1))
        )
        values = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    elif mode == SplitMode.PERCENT:
        cuts = sorted(
            draw(st.lists(st.integers(0, 1_000_000), min_size=len(chosen) - 1, max_size=len(chosen) - 1))
        )
        values = [Decimal(b - a).scaleb(-4) for a, b in zip([0, *cuts], [*cuts, 1_000_000], strict=True)]
    else:
        values = draw(
            st.lists(st.integers(1, 10**6), min_size=len(chosen), max_size=len(chosen)).map(
                lambda ws: [Decimal(w).scaleb(-2) for w in ws]
            )
        )
    return mode, kind, total, payer, list(zip(chosen, values, strict=True))


@pytest.fixture(scope="module")
def household(django_db_setup, django_db_blocker):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        people = [UserFactory() for _ in range(5)]
        home = make_household(people[0])
        for person in people[1:]:
            add_member(home, person)
        budgets = {}
        for currency in PLACES:
            budgets[currency] = BudgetFactory(owner=people[0], currency=currency)
            share_household(budgets[currency], home, "view")
        yield home, people, budgets
        transaction.set_rollback(True)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_splits_sum_to_amounts_nets_to_zero_and_simplified_debts_settle(household, data):
    home, people, budgets = household
    rows = data.draw(
        st.lists(st.tuples(st.sampled_from(list(PLACES)), splits(len(people))), min_size=1, max_size=6)
    )
    writer = SplitWriter(actor=people[0], locked_households={home.pk})
    for currency, (mode, kind, total, payer, chosen) in rows:
        tx = TransactionFactory(budget=budgets[currency], kind=kind, amount_minor=total)
        key = {"exact": "amount_minor", "percent": "percent", "shares": "weight"}.get(mode)
        entries = [{"user": people[i].pk, **({key: value} if key else {})} for i, value in chosen]
        spec = {"household": home, "paid_by": people[payer].pk, "mode": mode, "shares": entries}
        writer.write(tx=tx, budget=budgets[currency], spec=spec)
        stored = list(SplitShare.objects.filter(split_id=tx.pk).values_list("amount_minor", flat=True))
        sign = -1 if kind == Kind.INCOME else 1
        assert sum(stored) == sign * total
        assert all(sign * part >= 0 for part in stored)
    for currency, currency_nets in member_nets(home.pk).items():
        assert sum(currency_nets.values()) == 0
        settled = dict(currency_nets)
        for debtor, creditor, amount in simplify(currency_nets):
            assert amount > 0
            settled[debtor] += amount
            settled[creditor] -= amount
        assert set(settled.values()) <= {0}
        # The pairwise debts tell the same nets.
        assert nets(household_debts(home.pk)[currency]) == currency_nets
