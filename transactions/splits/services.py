"""Writes of shared costs: a transaction's split, settlements, write-offs.

Lock order (docs/architecture.md): the household rows first (households.services.
lock_households), then the budgets (transactions.services.lock_writable), then the rows
under them. A split is written only under its household's lock, as is every membership
change and every share of a budget with a member: so a member who leaves, or loses their
view of the budget, while a split naming them is written, either left first (the split is
refused: not a member, or cannot view the budget) or leaves after it (and their balance,
now counting the split, is checked before they go). Under the locks, each write reads
again who the current members are and who can view the budget.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.fields import ErrorDetail

from accounts.models import User
from budgets.models import Budget
from budgets.selectors import budget_viewers_among
from households.models import Household, Membership, Role
from households.services import lock_households
from money.amounts import format_amount
from server.exceptions import Conflict
from server.integrity import on_violation
from transactions.models import Kind, Settlement, SettlementKind, Split, SplitMode, SplitShare, Transaction
from transactions.splits.allocation import allocate
from transactions.splits.selectors import household_debts, member_nets

HUNDRED = Decimal(100)

on_violation(
    "split_share_one_per_member",
    "transactions_splitshare.split_id, transactions_splitshare.user_id",
    error=lambda: ValidationError({"split": {"shares": ["Each member appears once in a split."]}}),
)


def split_error(path: Iterable[str], message: str, code: str) -> ValidationError:
    """A 400 whose attr is the dotted ``path`` ("split.shares.1.user"; "3.split.paid_by" in bulk)."""
    detail: object = [ErrorDetail(message, code=code)]
    for key in reversed(list(path)):
        detail = {key: detail}
    return ValidationError(detail)


def households_of(specs: Iterable[dict | None]) -> set[int]:
    return {spec["household"].pk for spec in specs if spec}


def lock_split_households(ids: Iterable[int]) -> set[int]:
    """The first lock of any write that makes, changes or drops a split: its households."""
    return set(lock_households(sorted(set(ids))))


class SplitWriter:
    """Writes splits inside a write that holds the households' and budgets' locks; remembers
    each household's members for the rest of the request (one query per household)."""

    def __init__(self, *, actor: User | None, locked_households: set[int]):
        self.actor = actor
        self.locked = locked_households
        self._members: dict[int, set[int]] = {}

    def members(self, household_id: int) -> set[int]:
        if household_id not in self._members:
            self._members[household_id] = set(
                Membership.objects.filter(household_id=household_id).values_list("user_id", flat=True)
            )
        return self._members[household_id]

    def write(
        self, *, tx: Transaction, budget: Budget, spec: dict, path: tuple[str, ...] = ("split",)
    ) -> None:
        """Replaces ``tx``'s split with ``spec`` ({household, paid_by, mode, shares}), checked
        now, under the locks: the household still exists and the caller is in it, the payer
        and every member are current members and can view the budget, exact amounts add up."""
        household: Household = spec["household"]
        if household.pk not in self.locked:
            raise split_error((*path, "household"), _unknown(household.pk), "does_not_exist")
        members = self.members(household.pk)
        if self.actor is not None and self.actor.pk not in members:
            # The caller left meanwhile: the household is now as foreign as any other.
            raise split_error((*path, "household"), _unknown(household.pk), "does_not_exist")
        entries = spec["shares"] or [{"user": user} for user in sorted(members)]
        # Each participant, with the attr an error about them names.
        attrs = {spec["paid_by"]: (*path, "paid_by")}
        for i, entry in enumerate(spec["shares"]):
            attrs.setdefault(entry["user"], (*path, "shares", str(i), "user"))
        for entry in entries:
            attrs.setdefault(entry["user"], (*path, "shares"))
        for user, attr in attrs.items():
            if user not in members:
                raise split_error(
                    attr, f'User "{user}" is not a current member of this household.', "not_a_member"
                )
        viewers = budget_viewers_among(budget=budget, user_ids=attrs)
        for user, attr in attrs.items():
            if user not in viewers:
                raise split_error(
                    attr,
                    f'User "{user}" cannot view budget "{budget.pk}"; share it with them before splitting.',
                    "cannot_view_budget",
                )
        parts = _allocate(tx.amount_minor, spec["mode"], entries, path)
        sign = -1 if tx.kind == Kind.INCOME else 1
        split_delete(tx_id=tx.pk)
        split = Split.objects.create(
            transaction=tx,
            household=household,
            paid_by_id=spec["paid_by"],
            mode=spec["mode"],
            currency=budget.currency,
        )
        SplitShare.objects.bulk_create(
            [
                SplitShare(
                    split=split,
                    household=household,
                    currency=budget.currency,
                    user_id=entry["user"],
                    payer_id=spec["paid_by"],
                    amount_minor=sign * parts[entry["user"]],
                    weight=entry.get("percent", entry.get("weight")),
                )
                for entry in entries
            ]
        )
        tx._state.fields_cache["split"] = split

    def rewrite(self, *, tx: Transaction, budget: Budget, amount_changed: bool) -> None:
        """The split of ``tx`` divided again, the same way, after its amount, kind or budget
        changed: exact amounts cannot be divided again (400 split_shares_required)."""
        split = Split.objects.select_related("household").get(pk=tx.pk)
        shares = list(split.shares.order_by("user_id"))
        if split.mode == SplitMode.EXACT and amount_changed:
            raise split_error(
                ("split",),
                "This split gives exact amounts: send the split again with the new amount's shares.",
                "split_shares_required",
            )
        if any(share.user_id is None for share in shares) or split.paid_by_id is None:
            raise split_error(
                ("split",), "An account in this split was deleted: send the split again.", "not_a_member"
            )
        value = _VALUE_FOR_MODE.get(split.mode)
        entries = []
        for share in shares:
            entry = {"user": share.user_id}
            if value == "amount":
                entry["amount_minor"] = abs(share.amount_minor)
            elif value is not None:
                entry[value] = share.weight
            entries.append(entry)
        spec = {
            "household": split.household,
            "paid_by": split.paid_by_id,
            "mode": split.mode,
            "shares": entries,
        }
        try:
            self.write(tx=tx, budget=budget, spec=spec)
        except ValidationError as exc:
            # The stored split no longer holds (someone left, or lost the budget): say so on "split".
            first = _first_error(exc.detail)
            raise split_error(
                ("split",), f"{first} Send the split again, or remove it with null.", first.code
            ) from None


_VALUE_FOR_MODE = {SplitMode.EXACT: "amount", SplitMode.PERCENT: "percent", SplitMode.SHARES: "weight"}


def _first_error(detail) -> ErrorDetail:
    while isinstance(detail, dict | list):
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return detail


def _unknown(pk) -> str:
    return f'Invalid pk "{pk}" - object does not exist.'


def _allocate(total: int, mode: str, entries: list[dict], path) -> dict[int, int]:
    if mode == SplitMode.EXACT:
        parts = {entry["user"]: entry["amount_minor"] for entry in entries}
        if sum(parts.values()) != total:
            raise split_error(
                (*path, "shares"),
                "The exact amounts of a split must add up to the transaction's amount.",
                "split_total_mismatch",
            )
        return parts
    if mode == SplitMode.EQUAL:
        weights = [(entry["user"], 1) for entry in entries]
    elif mode == SplitMode.PERCENT:
        weights = [(entry["user"], entry["percent"]) for entry in entries]
        if sum(weight for _, weight in weights) != HUNDRED:  # a stored split: checked again
            raise split_error((*path, "shares"), "The percentages must add up to 100.", "percent_total")
    else:
        weights = [(entry["user"], entry["weight"]) for entry in entries]
    if not any(weight for _, weight in weights):
        raise split_error((*path, "shares"), "At least one member must take a part.", "percent_total")
    return allocate(total, weights)


def split_delete(*, tx_id: int) -> None:
    """A transaction's split goes, the transaction stays (``split: null``, or a new split)."""
    SplitShare.objects.filter(split_id=tx_id).delete()
    Split.objects.filter(pk=tx_id).delete()


# Settlements ------------------------------------------------------------------------------


def _locked_household(household: Household) -> None:
    if not lock_households([household.pk]):
        raise NotFound()


@transaction.atomic
def settlement_create(
    *,
    household: Household,
    actor: User,
    from_id: int,
    to_id: int,
    amount_minor: int,
    currency: str,
    date,
    note: str,
) -> Settlement:
    """A payment from one member to another: either of them, or the household's owner or an
    admin, records it. Checked under the household's lock: both are members now."""
    _locked_household(household)
    roles = dict(
        Membership.objects.filter(household=household, user_id__in={from_id, to_id, actor.pk}).values_list(
            "user_id", "role"
        )
    )
    if actor.pk not in roles:
        raise NotFound()  # left meanwhile: the household is no longer theirs to see
    for attr, user in (("from", from_id), ("to", to_id)):
        if user not in roles:
            raise split_error(
                (attr,), f'User "{user}" is not a current member of this household.', "not_a_member"
            )
    if actor.pk not in (from_id, to_id) and roles[actor.pk] not in (Role.OWNER, Role.ADMIN):
        raise PermissionDenied(
            "A settlement is recorded by one of its two members, or by the household's owner or an admin.",
            code="cannot_record_settlement",
        )
    return Settlement.objects.create(
        household=household,
        kind=SettlementKind.PAYMENT,
        from_user_id=from_id,
        to_user_id=to_id,
        amount_minor=amount_minor,
        currency=currency,
        date=date,
        note=note,
        recorded_by=actor,
    )


@transaction.atomic
def settlement_delete(*, household: Household, settlement_id: int, actor: User) -> None:
    """By whoever recorded it, or the household's owner; a write-off stays (409)."""
    _locked_household(household)
    settlement = Settlement.objects.select_for_update().filter(household=household, pk=settlement_id).first()
    if settlement is None:
        raise NotFound()
    role = Membership.objects.filter(household=household, user=actor).values_list("role", flat=True).first()
    if role is None:
        raise NotFound()
    if settlement.recorded_by_id != actor.pk and role != Role.OWNER:
        raise PermissionDenied(
            "Only whoever recorded a settlement, or the household's owner, can delete it.",
            code="cannot_delete_settlement",
        )
    if settlement.kind == SettlementKind.WRITE_OFF:
        raise Conflict(
            "A write-off records a member's departure and cannot be deleted.", code="write_off_final"
        )
    settlement.delete()


# Membership rules (receivers of households' signals) --------------------------------------


def outstanding(household: Household, user_id: int | None = None) -> list[dict]:
    """Non-zero nets, per member and currency (of ``user_id`` only, if given)."""
    rows = []
    for currency, nets in sorted(member_nets(household.pk).items()):
        for user, net in sorted(nets.items(), key=lambda item: (item[0] is None, item[0] or 0)):
            if net and (user_id is None or user == user_id):
                rows.append({"user": user, "currency": currency, "net": format_amount(net, currency)})
    return rows


def _balance_outstanding(message: str, balances: list[dict]) -> Conflict:
    return Conflict(message, code="balance_outstanding", extra={"balances": balances})


def on_membership_ending(sender, *, household, user, actor, force, **kwargs) -> None:
    """A member with a non-zero balance in any currency stays until it is settled (409); the
    owner's force writes off what they still owe or are owed, pair by pair, in the ledger."""
    balances = outstanding(household, user.pk)
    if not balances:
        return
    if not force:
        raise _balance_outstanding(
            "This member's shared costs are not settled; settle up first"
            + (" (or, as the owner, remove them with ?force=true)." if actor.pk != user.pk else "."),
            balances,
        )
    today = timezone.localdate()
    writeoffs = []
    for currency, debts in household_debts(household.pk).items():
        for debtor, creditor, amount in debts:
            if user.pk not in (debtor, creditor):
                continue
            # Recorded as the payment that would have settled it, so the pair nets to zero.
            writeoffs.append(
                Settlement(
                    household=household,
                    kind=SettlementKind.WRITE_OFF,
                    from_user_id=debtor,
                    to_user_id=creditor,
                    amount_minor=amount,
                    currency=currency,
                    date=today,
                    note=f"Written off when {user.email} was removed from the household.",
                    recorded_by=actor,
                )
            )
    Settlement.objects.bulk_create(writeoffs)


def on_household_deleting(sender, *, household, force, **kwargs) -> None:
    if force:
        return
    balances = outstanding(household)
    if balances:
        raise _balance_outstanding(
            "The household's shared costs are not settled; settle up first, or delete it with ?force=true.",
            balances,
        )


# The CSV import's splits (paid_by, split_with columns) --------------------------------------


class ImportSplits:
    """The CSV import's splits (paid_by and split_with columns), resolved under the
    household's and the budget's locks: who the household's current members are and which of
    them can view the budget, read once for the whole file (two queries however many rows),
    then each row's split checked against them: emails of current members who can view the
    budget, or an error naming "<line>.paid_by" / "<line>.split_with"."""

    def __init__(self, *, household: Household, budget: Budget, actor: User):
        self.household, self.budget = household, budget
        self.members = {
            email.lower(): pk
            for pk, email in Membership.objects.filter(household=household).values_list(
                "user_id", "user__email"
            )
        }
        if actor.pk not in self.members.values():
            raise split_error(("household",), _unknown(household.pk), "does_not_exist")
        self.emails = {pk: email for email, pk in self.members.items()}
        self.everyone = sorted(self.members.values())
        self.viewers = budget_viewers_among(budget=budget, user_ids=self.everyone)

    def resolve(self, line: int, split: dict) -> tuple[dict | None, dict | None]:
        """(spec, None) for a split that holds, else (None, the row's error)."""
        members = self.members
        payer = members.get(split["paid_by"])
        if payer is None:
            return None, _import_error(line, "paid_by", split["paid_by"], "not_a_member")
        missing = [email for email, _ in split["members"] if email not in members]
        if missing:
            return None, _import_error(line, "split_with", missing[0], "not_a_member")
        weighted = any(weight is not None for _, weight in split["members"])
        spec = {
            "household": self.household,
            "paid_by": payer,
            "mode": SplitMode.SHARES if weighted else SplitMode.EQUAL,
            "shares": [
                {"user": members[email], **({"weight": weight} if weighted else {})}
                for email, weight in split["members"]
            ],
        }
        people = [("paid_by", payer)] + [
            ("split_with", pk) for pk in ([s["user"] for s in spec["shares"]] or self.everyone)
        ]
        blind = next(((field, pk) for field, pk in people if pk not in self.viewers), None)
        if blind is not None:
            field, pk = blind
            return None, {
                "line": line,
                "field": field,
                "code": "cannot_view_budget",
                "detail": f'{self.emails[pk]} cannot view budget "{self.budget.pk}"; '
                "share it with them first.",
            }
        return spec, None

    def rows(self, *, tx_id: int, amount_minor: int, kind: str, spec: dict) -> tuple[dict, list[dict]]:
        """The Split and SplitShare rows (as field values) of a new transaction's checked spec."""
        entries = spec["shares"] or [{"user": user} for user in self.everyone]
        parts = _allocate(amount_minor, spec["mode"], entries, ("split",))
        sign = -1 if kind == Kind.INCOME else 1
        currency, household_id = self.budget.currency, self.household.pk
        split = {
            "transaction_id": tx_id,
            "household_id": household_id,
            "paid_by_id": spec["paid_by"],
            "mode": spec["mode"],
            "currency": currency,
        }
        shares = [
            {
                "split_id": tx_id,
                "household_id": household_id,
                "currency": currency,
                "user_id": entry["user"],
                "payer_id": spec["paid_by"],
                "amount_minor": sign * parts[entry["user"]],
                "weight": entry.get("weight"),
            }
            for entry in entries
        ]
        return split, shares


def _import_error(line: int, field: str, email: str, code: str) -> dict:
    return {
        "line": line,
        "field": field,
        "code": code,
        "detail": f'"{email}" is not a member of this household.',
    }
