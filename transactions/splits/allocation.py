"""The arithmetic of shared costs, in exact integers: no database, no float.

- ``allocate``: a total in minor units divided by weights, by largest remainder, ties to
  the lower user id (10.00 EUR among 3 -> 334 / 333 / 333). The parts sum to the total.
- ``pairwise``: directed amounts netted per pair (the "original" debts).
- ``nets``: each member's net from the pairwise debts; a currency's nets sum to zero.
- ``simplify``: a deterministic greedy set of transfers that settles every net exactly:
  the largest creditor with the largest debtor, ties by ascending user id.
"""

import heapq
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

# A user id, or None for an account deleted since (it still holds its place in the sums).
UserId = int | None


def _order_key(user: UserId) -> tuple[int, int]:
    """Ascending user id, a deleted account (None) after every live one."""
    return (1, 0) if user is None else (0, user)


def allocate(total: int, weights: list[tuple[UserId, Decimal | int]]) -> dict[UserId, int]:
    """``total`` (minor units, >= 0) divided in proportion to the weights (each >= 0, sum > 0).

    Each member gets the floor of their exact quota; the units left over go one each to
    the largest remainders, ties broken by ascending user id."""
    if total < 0:
        raise ValueError("allocate() divides a non-negative total")
    whole = sum((Fraction(w) for _, w in weights), Fraction(0))
    if whole <= 0:
        raise ValueError("allocate() needs a positive sum of weights")
    parts: dict[UserId, int] = {}
    remainders = []
    for user, weight in weights:
        quota = Fraction(total) * Fraction(weight) / whole
        floor = quota.numerator // quota.denominator
        parts[user] = floor
        remainders.append((-(quota - floor), _order_key(user), user))
    left = total - sum(parts.values())
    for _, _, user in sorted(remainders)[:left]:
        parts[user] += 1
    return parts


def pairwise(edges: Iterable[tuple[UserId, UserId, int]]) -> list[tuple[UserId, UserId, int]]:
    """``edges``: (debtor, creditor, amount) — the debtor owes the creditor ``amount`` (a
    negative amount reverses it). -> one (debtor, creditor, amount > 0) per pair that does
    not net to zero, ordered by debtor then creditor."""
    owed: dict[tuple[UserId, UserId], int] = {}
    for debtor, creditor, amount in edges:
        if debtor == creditor or not amount:
            continue
        a, b = sorted((debtor, creditor), key=_order_key)
        owed[(a, b)] = owed.get((a, b), 0) + (amount if debtor == a else -amount)
    result = []
    for (a, b), amount in owed.items():
        if amount > 0:
            result.append((a, b, amount))
        elif amount < 0:
            result.append((b, a, -amount))
    return sorted(result, key=lambda debt: (_order_key(debt[0]), _order_key(debt[1])))


def nets(debts: Iterable[tuple[UserId, UserId, int]]) -> dict[UserId, int]:
    """Each member's net: what others owe them minus what they owe others."""
    result: dict[UserId, int] = {}
    for debtor, creditor, amount in debts:
        result[debtor] = result.get(debtor, 0) - amount
        result[creditor] = result.get(creditor, 0) + amount
    return result


def simplify(balances: dict[UserId, int]) -> list[tuple[UserId, UserId, int]]:
    """Transfers (from, to, amount > 0) after which every net in ``balances`` (summing to
    zero) is zero: repeatedly the largest debtor pays the largest creditor as much as one of
    them needs, ties broken by ascending user id. At most n - 1 transfers."""
    if sum(balances.values()) != 0:
        raise ValueError("The nets of a currency must sum to zero")
    creditors = [(-net, _order_key(user), user) for user, net in balances.items() if net > 0]
    debtors = [(net, _order_key(user), user) for user, net in balances.items() if net < 0]
    heapq.heapify(creditors)
    heapq.heapify(debtors)
    transfers = []
    while creditors and debtors:
        credit, credit_key, creditor = heapq.heappop(creditors)
        debt, debt_key, debtor = heapq.heappop(debtors)
        amount = min(-credit, -debt)
        transfers.append((debtor, creditor, amount))
        if -credit > amount:
            heapq.heappush(creditors, (credit + amount, credit_key, creditor))
        if -debt > amount:
            heapq.heappush(debtors, (debt + amount, debt_key, debtor))
    return transfers
