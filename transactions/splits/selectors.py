"""Reads of shared costs. Balances and debts are two aggregates in the database (shares per
(member, payer, currency), settlements per (from, to, currency), each index-only on
PostgreSQL), then exact integer arithmetic on the few rows they return: a fixed number of
queries, however many splits the household holds."""

from django.db.models import F, Q, Sum, Value
from django.db.models.fields import CharField

from accounts.models import User
from money.amounts import format_amount
from transactions.models import Settlement, Split, SplitShare
from transactions.splits.allocation import UserId, nets, pairwise, simplify

Debt = tuple[UserId, UserId, int]


def household_debts(household_id: int) -> dict[str, list[Debt]]:
    """Per currency, what each member owes each other member, netted per pair: (debtor,
    creditor, amount > 0). Two queries."""
    edges: dict[str, list[Debt]] = {}
    shares = (
        SplitShare.objects.filter(household_id=household_id)
        .values_list("currency", "user_id", "payer_id")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    for currency, user, payer, total in shares:
        # An expense's share: the member owes the payer; an income's (negative) reverses it.
        edges.setdefault(currency, []).append((user, payer, total))
    settlements = (
        Settlement.objects.filter(household_id=household_id)
        .values_list("currency", "from_user_id", "to_user_id")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    for currency, payer, payee, total in settlements:
        # A payment from A to B: B now owes A that much (or A owes B that much less).
        edges.setdefault(currency, []).append((payee, payer, total))
    return {currency: pairwise(rows) for currency, rows in edges.items()}


def member_nets(household_id: int) -> dict[str, dict[UserId, int]]:
    """Per currency, each member's net (paid for others - owed to others + settlements); the
    nets of a currency sum to zero."""
    return {currency: nets(debts) for currency, debts in household_debts(household_id).items()}


def users_by_id(ids) -> dict[int, User]:
    ids = {pk for pk in ids if pk is not None}
    return {user.pk: user for user in User.objects.filter(pk__in=ids).only("id", "email")} if ids else {}


def household_balances(household) -> list[dict]:
    """Per currency (alphabetical), every current member and anyone with a non-zero net, with
    their net. Three queries (two aggregates, the members and their emails)."""
    by_currency = member_nets(household.pk)
    members = dict(
        household.memberships.select_related("user").values_list("user_id", "user__email").order_by("user_id")
    )
    others = {user for nets_ in by_currency.values() for user in nets_ if user not in members}
    emails = {**{pk: user.email for pk, user in users_by_id(others).items()}, **members}
    result = []
    for currency in sorted(by_currency):
        currency_nets = by_currency[currency]
        users = sorted(set(members) | {u for u, net in currency_nets.items() if net}, key=_user_order)
        result.append(
            {
                "currency": currency,
                "balances": [
                    {
                        "user": _user_ref(user, emails),
                        "net": format_amount(currency_nets.get(user, 0), currency),
                    }
                    for user in users
                ],
            }
        )
    return result


def debts_between(household, *, simplified: bool) -> list[dict]:
    """Per currency, the pairwise debts or the simplified transfers. Three queries."""
    by_currency = household_debts(household.pk)
    rows = []
    for currency in sorted(by_currency):
        debts = by_currency[currency]
        if simplified:
            debts = simplify(nets(debts))
        rows.extend(
            {"currency": currency, "from": d, "to": c, "amount": format_amount(amount, currency)}
            for d, c, amount in debts
        )
    emails = {
        pk: user.email
        for pk, user in users_by_id({row["from"] for row in rows} | {row["to"] for row in rows}).items()
    }
    for row in rows:
        row["from"], row["to"] = _user_ref(row["from"], emails), _user_ref(row["to"], emails)
    return rows


def _user_order(user: UserId):
    return (user is None, user or 0)


def _user_ref(user: UserId, emails: dict) -> dict | None:
    return None if user is None else {"id": user, "email": emails.get(user, "")}


# The ledger -------------------------------------------------------------------------------


def ledger_entries(household, *, member=None, date_after=None, date_before=None, currency=None):
    """The household's split transactions and settlements, newest first, as one queryset of
    (date, type, id) rows that pages like any list; ledger_details() reads a page's rows."""
    splits = Split.objects.filter(household=household)
    settlements = Settlement.objects.filter(household=household)
    if member is not None:
        splits = splits.filter(
            Q(paid_by_id=member) | Q(pk__in=SplitShare.objects.filter(user_id=member).values("split_id"))
        )
        settlements = settlements.filter(Q(from_user_id=member) | Q(to_user_id=member))
    if date_after is not None:
        splits = splits.filter(transaction__date__gte=date_after)
        settlements = settlements.filter(date__gte=date_after)
    if date_before is not None:
        splits = splits.filter(transaction__date__lte=date_before)
        settlements = settlements.filter(date__lte=date_before)
    if currency:
        splits = splits.filter(currency=currency)
        settlements = settlements.filter(currency=currency)
    split_rows = splits.annotate(
        entry_date=F("transaction__date"),
        entry_type=Value("split", output_field=CharField()),
        entry_id=F("pk"),
    ).values_list("entry_date", "entry_type", "entry_id")
    settlement_rows = settlements.annotate(
        entry_date=F("date"), entry_type=F("kind"), entry_id=F("pk")
    ).values_list("entry_date", "entry_type", "entry_id")
    return (
        split_rows.order_by()
        .union(settlement_rows.order_by(), all=True)
        .order_by("-entry_date", "-entry_type", "-entry_id")
    )


def ledger_details(page: list[tuple]) -> list[dict]:
    """The page's rows in full, in its order: three queries (splits with their transaction,
    their shares, settlements), whatever the page's size."""
    split_ids = [pk for _, kind, pk in page if kind == "split"]
    settlement_ids = [pk for _, kind, pk in page if kind != "split"]
    splits = (
        {
            split.pk: split
            for split in Split.objects.filter(pk__in=split_ids).select_related("transaction", "paid_by")
        }
        if split_ids
        else {}
    )
    shares: dict[int, list[SplitShare]] = {}
    if split_ids:
        for share in (
            SplitShare.objects.filter(split_id__in=split_ids).select_related("user").order_by("user_id")
        ):
            shares.setdefault(share.split_id, []).append(share)
    settlements = (
        {
            s.pk: s
            for s in Settlement.objects.filter(pk__in=settlement_ids).select_related("from_user", "to_user")
        }
        if settlement_ids
        else {}
    )
    entries = []
    for _, kind, pk in page:
        if kind == "split":
            entries.append(_split_entry(splits[pk], shares.get(pk, [])))
        else:
            entries.append(_settlement_entry(settlements[pk]))
    return entries


def _ref(user) -> dict | None:
    return None if user is None else {"id": user.pk, "email": user.email}


def _split_entry(split: Split, shares: list[SplitShare]) -> dict:
    tx = split.transaction
    return {
        "type": "split",
        "date": tx.date,
        "currency": split.currency,
        "amount": format_amount(tx.amount_minor, split.currency),
        "transaction": tx.pk,
        "kind": tx.kind,
        "payee": tx.payee,
        "paid_by": _ref(split.paid_by),
        "shares": [
            {"user": _ref(share.user), "amount": format_amount(abs(share.amount_minor), split.currency)}
            for share in shares
        ],
        "settlement": None,
        "from": None,
        "to": None,
        "note": None,
    }


def _settlement_entry(settlement: Settlement) -> dict:
    return {
        "type": settlement.kind,
        "date": settlement.date,
        "currency": settlement.currency,
        "amount": format_amount(settlement.amount_minor, settlement.currency),
        "transaction": None,
        "kind": None,
        "payee": None,
        "paid_by": None,
        "shares": None,
        "settlement": settlement.pk,
        "from": _ref(settlement.from_user),
        "to": _ref(settlement.to_user),
        "note": settlement.note,
    }
