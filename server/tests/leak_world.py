"""Tenant A's world for the leak matrix and the injection tests, built once per module.

The actors are the shared world's (server/tests/world.py), by the same names and made by
its make_user, but with marker emails; the objects are this module's own. A ("owner")
owns household Home (editor, viewer and member are members; so was the deleted user),
household Annex (A alone), budget Shared (user shares: editor "edit", viewer "view";
household share: Annex "view") and budget Private (shared with nobody), with a category
and a transaction in each, and a pending invitation from Home to a third email. Home also
shares costs: budget Kitty (shared with Home to view) holds a transaction A paid and split
equally with editor, and a settlement from editor to A squares it (every balance is zero, so
anyone may leave). Stranger B has a household (with a housemate), a budget, a category and
a transaction of their own. Staff is a staff account without grants or permissions.

Every name, payee, amount and id of those objects is a marker string: a response body
holding one is a leak unless the caller is entitled to its group (ENTITLED).
"""

import copy
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from budgets.models import (
    Budget,
    BudgetGroupObjectPermission,
    BudgetKnowledge,
    BudgetUserObjectPermission,
    Category,
    Tombstone,
)
from budgets.tests.factories import BudgetFactory, CategoryFactory, share_household, share_user
from history.models import Event
from households.models import Household, Invitation, Membership
from households.tests.factories import InvitationFactory, make_household
from server.tests.world import EDITOR, MEMBER, OWNER, STAFF, STRANGER, VIEWER, make_user
from transactions.models import Settlement, Split, SplitShare, Transaction
from transactions.splits.services import SplitWriter, settlement_create
from transactions.tests.factories import TransactionFactory

# Nine-digit ids: never a run of digits in a timestamp or a small id, and far apart, so
# the id SQLite hands out after one of them (max + 1) is no other marker.
SHARED_BUDGET, SHARED_CATEGORY, SHARED_TX = 924_681_357, 946_802_135, 968_024_913
PRIVATE_BUDGET, PRIVATE_CATEGORY, PRIVATE_TX = 913_572_468, 935_791_246, 957_913_024
MISSING_ID = 987_654_321
MISSING_INVITATION = "7d1e3f0a-5b6c-4d8e-9f01-23456789abcd"

# Marker group -> the actors entitled to see it.
ENTITLED = {
    "private": (OWNER,),
    "shared": (OWNER, EDITOR, VIEWER),
    "home": (OWNER, EDITOR, VIEWER, MEMBER),
    "people": (OWNER, EDITOR, VIEWER, MEMBER),
    # Home's shared costs (its ledger, Kitty's budget and transaction): Home's members.
    "kitty": (OWNER, EDITOR, VIEWER, MEMBER),
    # Annex is named to those who may read the shared budget's shares (owner, editor).
    "annex": (OWNER, EDITOR),
    "invitation": (OWNER,),
    "departed": (),
    "stranger": (STRANGER,),
    "staff": (STAFF,),
}

# Every table a request could write for a tenant: a refused request leaves them as they were.
STATE_MODELS = (
    User,
    User.groups.through,
    User.user_permissions.through,
    Group,
    Household,
    Membership,
    Invitation,
    Budget,
    BudgetUserObjectPermission,
    BudgetGroupObjectPermission,
    Category,
    Transaction,
    Split,
    SplitShare,
    Settlement,
    Event,
    BudgetKnowledge,
    Tombstone,
)


def tenant_state() -> dict[str, list[tuple]]:
    return {model._meta.label: list(model.objects.order_by("pk").values_list()) for model in STATE_MODELS}


def amount(minor: int) -> str:
    """EUR minor units as the API writes them."""
    return f"{minor // 100}.{minor % 100:02d}"


@dataclass
class World:
    users: dict[str, User]  # owner, editor, viewer, member, stranger, staff, by name
    ghost: User  # the deleted user, as it was before deletion
    home: Household
    annex: Household
    shared: Budget
    private: Budget
    shared_category: Category
    private_category: Category
    shared_tx: Transaction
    private_tx: Transaction
    invitation: Invitation
    kitty: Budget
    settlement: Settlement
    grant_id: str  # the admin-grants id of editor's share on Shared
    their_home: Household
    their_budget: Budget
    their_category: Category
    their_tx: Transaction
    markers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Every tenant table as built; each test starts from exactly this (its savepoint).
    baseline: dict[str, list[tuple]] = field(default_factory=dict)

    def leaks(self, actor: str, body: bytes, sent: str = "") -> list[tuple[str, str]]:
        """Markers of groups ``actor`` may not see that ``body`` holds, leaving out those
        the request itself carried (an error may echo the id the client sent)."""
        return [
            (group, marker)
            for group, strings in self.markers.items()
            if actor not in ENTITLED[group]
            for marker in strings
            if marker not in sent and marker.encode() in body
        ]


def build_world() -> World:
    today = timezone.localdate()
    owner = make_user(OWNER, email="owner-a.qz1@example.com")
    editor = make_user(EDITOR, email="editor.qz2@example.com")
    viewer = make_user(VIEWER, email="viewer.qz3@example.com")
    member = make_user(MEMBER, email="member.qz4@example.com")
    stranger = make_user(STRANGER, email="stranger-b.qz5@example.com")
    staff = make_user(STAFF, email="staff.qz6@example.com")
    departed = UserFactory(email="departed.qz7@example.com")

    home = make_household(owner, name="HOMEHOLD-Vb5", members=[editor, viewer, member, departed])
    annex = make_household(owner, name="ANNEXHOLD-Jk2")  # A alone: a share on it gives nobody else access
    shared = BudgetFactory(pk=SHARED_BUDGET, owner=owner, name="SHAREDBUDGET-Hn3", amount_minor=765_432)
    share_user(shared, editor, "edit")
    share_user(shared, viewer, "view")
    share_user(shared, departed, "edit")
    share_household(shared, annex, "view")
    shared_category = CategoryFactory(
        pk=SHARED_CATEGORY, budget=shared, name="SHAREDCAT-Pw6", allocated_minor=246_802
    )
    shared_tx = TransactionFactory(
        pk=SHARED_TX,
        budget=shared,
        category=shared_category,
        amount_minor=321_098,
        date=today,
        payee="SHAREDPAYEE-Qe9",
        description="SHAREDDESC-Ui4",
        notes="SHAREDNOTE-Oa7",
    )
    private = BudgetFactory(pk=PRIVATE_BUDGET, owner=owner, name="PRIVBUDGET-Kq7", amount_minor=876_543)
    private_category = CategoryFactory(
        pk=PRIVATE_CATEGORY, budget=private, name="PRIVCAT-Zx2", allocated_minor=135_791
    )
    private_tx = TransactionFactory(
        pk=PRIVATE_TX,
        budget=private,
        category=private_category,
        amount_minor=432_109,
        date=today,
        payee="PRIVPAYEE-Lm4",
        description="PRIVDESC-Rt8",
        notes="PRIVNOTE-Yu1",
    )
    invitation = InvitationFactory(household=home, email="pending-invitee.qz8@example.com", invited_by=owner)
    kitty = BudgetFactory(owner=owner, name="KITTYBUDGET-Fr8", amount_minor=642_086)
    share_household(kitty, home, "view")
    kitty_tx = TransactionFactory(budget=kitty, amount_minor=482_604, date=today, payee="KITTYPAYEE-Bn5")
    SplitWriter(actor=owner, locked_households={home.pk}).write(
        tx=kitty_tx,
        budget=kitty,
        spec={
            "household": home,
            "paid_by": owner.pk,
            "mode": "equal",
            "shares": [{"user": owner.pk}, {"user": editor.pk}],
        },
    )
    settlement = settlement_create(
        household=home,
        actor=owner,
        from_id=editor.pk,
        to_id=owner.pk,
        amount_minor=241_302,
        currency=kitty.currency,
        date=today,
        note="KITTYNOTE-Hq3",
    )

    housemate = UserFactory(email="b-housemate.qz9@example.com")
    their_home = make_household(stranger, name="STRANGERHOLD-Op5", members=[housemate])
    their_budget = BudgetFactory(owner=stranger, name="STRANGERBUDGET-Ty3", amount_minor=555_517)
    their_category = CategoryFactory(budget=their_budget, name="STRANGERCAT-Wd2", allocated_minor=None)
    their_tx = TransactionFactory(
        budget=their_budget,
        category=their_category,
        amount_minor=717_171,
        date=today,
        payee="STRANGERPAYEE-Gh6",
    )

    editor_rows = BudgetUserObjectPermission.objects.filter(content_object=shared, user=editor)
    grant_id = f"u{min(editor_rows.values_list('pk', flat=True))}"

    # The deleted user: a member of Home with an edit share until their account went.
    ghost = copy.copy(departed)
    departed.delete()

    def objects(budget, category, tx) -> tuple[str, ...]:
        return (
            str(budget.pk),
            str(category.pk),
            str(tx.pk),
            budget.name,
            category.name,
            tx.payee,
            tx.description,
            tx.notes,
            amount(budget.amount_minor),
            amount(category.allocated_minor),
            amount(tx.amount_minor),
        )

    markers = {
        # A private amount summed into a shared total (a summary, a report, a count) shows
        # up as one of these sums rather than as the amount itself.
        "private": (
            *objects(private, private_category, private_tx),
            amount(shared_tx.amount_minor + private_tx.amount_minor),
            amount(shared.amount_minor - shared_tx.amount_minor - private_tx.amount_minor),
        ),
        "shared": objects(shared, shared_category, shared_tx),
        "home": (home.name,),
        "people": (owner.email, editor.email, viewer.email, member.email),
        "kitty": (
            kitty.name,
            kitty_tx.payee,
            settlement.note,
            amount(kitty.amount_minor),
            amount(kitty_tx.amount_minor),
            amount(settlement.amount_minor),
        ),
        "annex": (annex.name,),
        "invitation": (str(invitation.pk), invitation.email),
        "departed": (ghost.email,),
        "stranger": (
            stranger.email,
            housemate.email,
            their_home.name,
            their_budget.name,
            their_category.name,
            their_tx.payee,
            amount(their_budget.amount_minor),
            amount(their_tx.amount_minor),
            amount(shared_tx.amount_minor + their_tx.amount_minor),
        ),
        "staff": (staff.email,),
    }
    users = {OWNER: owner, EDITOR: editor, VIEWER: viewer, MEMBER: member, STRANGER: stranger, STAFF: staff}
    return World(
        users=users,
        ghost=ghost,
        home=home,
        annex=annex,
        shared=shared,
        private=private,
        shared_category=shared_category,
        private_category=private_category,
        shared_tx=shared_tx,
        private_tx=private_tx,
        invitation=invitation,
        kitty=kitty,
        settlement=settlement,
        grant_id=grant_id,
        their_home=their_home,
        their_budget=their_budget,
        their_category=their_category,
        their_tx=their_tx,
        markers=markers,
    )


def module_world(django_db_blocker):
    """The body of a module-scoped fixture: the world, built inside a transaction that is
    rolled back when the module is done. Each test's own transaction (pytest-django's) is
    a savepoint inside it, so no test sees another's writes."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        world.baseline = tenant_state()
        yield world
        transaction.set_rollback(True)
