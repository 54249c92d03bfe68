"""The one world the API tests are built on: who is who around the owner's shared budget.

Every actor has one name, used by every per-app world, every actor matrix and ``as_(name)``
(the root conftest). The people, their households and the shared budget come from
``build_world()``; a per-app world subclasses ``World`` and adds what its tests need
(``World.extend``):

- households/tests/fixtures.py: an invitation to Home for ``invitee``, one to Elsewhere;
- transactions/tests/conftest.py: categories and transactions in both budgets;
- budgets/tests/test_api.py and test_contract.py: categories, ``newcomer``, own budgets.

The leak matrix's world (server/tests/leak_world.py) uses the same names and ``make_user``
but builds its own marker-string objects.
"""

from dataclasses import dataclass, fields

from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_pair_for
from accounts.tests.factories import UserFactory
from budgets.models import Budget
from budgets.tests.factories import BudgetFactory, share_household, share_user
from households.models import Household
from households.tests.factories import make_household

# --- the actors -------------------------------------------------------------------------

OWNER = "owner"  # owns household Home, household Flat and the shared budget
EDITOR = "editor"  # member of Home; a user share on the budget to edit
VIEWER = "viewer"  # member of Home; a user share on the budget to view
HOUSEHOLD_EDITOR = "household_editor"  # member of Flat, which the budget is shared with to edit
MEMBER = "member"  # member of Home, no share
ADMIN = "admin"  # admin of Home, no share
STRANGER = "stranger"  # owns household Elsewhere (with a housemate) and a budget of their own
STAFF = "staff"  # is_staff, without grants or permissions
SUPERUSER = "superuser"  # is_staff and is_superuser, without grants
GLOBAL_PERMS = "global_perms"  # every model-wide permission on budgets, categories, transactions; no grant
ANONYMOUS = "anonymous"  # no credentials

# May change the shared budget and write its transactions.
WRITERS = (OWNER, EDITOR, HOUSEHOLD_EDITOR)
# May see the shared budget.
READERS = (*WRITERS, VIEWER)
# Signed in, but the shared budget is neither theirs nor shared with them.
OUTSIDERS = (MEMBER, ADMIN, STRANGER, STAFF, SUPERUSER, GLOBAL_PERMS)
SIGNED_IN = (*READERS, *OUTSIDERS)
ACTORS = (*SIGNED_IN, ANONYMOUS)

# What GLOBAL_PERMS holds model-wide ("app.codename"); it must widen nothing.
MODEL_WIDE_PERMISSIONS = tuple(
    f"{app}.{action}_{model}"
    for app, model in (("budgets", "budget"), ("budgets", "category"), ("transactions", "transaction"))
    for action in ("view", "add", "change", "delete")
)


def make_user(actor: str, **overrides) -> User:
    """A user who is ``actor`` as far as the account goes: staff and superuser flags, the
    model-wide permissions of GLOBAL_PERMS. Email ``<actor>@example.com`` unless
    ``overrides`` say otherwise (the leak world passes its marker emails)."""
    flags = {STAFF: {"is_staff": True}, SUPERUSER: {"is_staff": True, "is_superuser": True}}
    user = UserFactory(**{"email": f"{actor}@example.com", **flags.get(actor, {}), **overrides})
    if actor == GLOBAL_PERMS:
        for label in MODEL_WIDE_PERMISSIONS:
            app, codename = label.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
        user = User.objects.get(pk=user.pk)  # without the permission cache of the unprivileged user
        assert all(user.has_perm(label) for label in MODEL_WIDE_PERMISSIONS)
    return user


def api_client(user: User | None) -> APIClient:
    """An API client with a real access token for ``user``; without credentials for None."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user)['access']}")
    client.user = user
    return client


# --- the world --------------------------------------------------------------------------


@dataclass
class World:
    """The actors above, as users, and what they share:

    - ``home`` ("Home"): owner (owner), admin (admin), editor, viewer, member (members);
    - ``flat`` ("Flat"): owner (owner), household_editor (member);
    - ``elsewhere`` ("Elsewhere"): stranger (owner) and a housemate of theirs;
    - ``budget``: the owner's (EUR, monthly from 2026-01-01), shared with editor (edit) and
      viewer (view) by user share and with Flat (edit);
    - ``foreign_budget`` ("Secret"): the stranger's, shared with nobody.
    """

    owner: User
    editor: User
    viewer: User
    household_editor: User
    member: User
    admin: User
    stranger: User
    staff: User
    superuser: User
    global_perms: User
    home: Household
    flat: Household
    elsewhere: Household
    budget: Budget
    foreign_budget: Budget

    @classmethod
    def extend(cls, world: "World", **more):
        """``world`` as a per-app subclass ``cls``, with that app's objects (``more``) added."""
        return cls(**{f.name: getattr(world, f.name) for f in fields(World)}, **more)

    @property
    def users(self) -> dict[str, User]:
        """Every signed-in actor by name, in SIGNED_IN order."""
        return {name: self.actor(name) for name in SIGNED_IN}

    def actor(self, name: str) -> User:
        """The user called ``name``: an actor, or a person a per-app world adds ("invitee")."""
        user = getattr(self, name, None)
        if not isinstance(user, User):
            raise LookupError(f"no user called {name!r} in {type(self).__name__}")
        return user

    def client(self, name: str) -> APIClient:
        """An API client for that actor; "anonymous" gets one without credentials."""
        return api_client(None if name == ANONYMOUS else self.actor(name))


def build_world(*, budget_name: str = "Family", budget_amount_minor: int = 200_000) -> World:
    """The people, their households and the two budgets (World's docstring)."""
    people = {name: make_user(name) for name in SIGNED_IN}
    owner, stranger = people[OWNER], people[STRANGER]
    home = make_household(
        owner, name="Home", admins=[people[ADMIN]], members=[people[n] for n in (EDITOR, VIEWER, MEMBER)]
    )
    flat = make_household(owner, name="Flat", members=[people[HOUSEHOLD_EDITOR]])
    elsewhere = make_household(stranger, name="Elsewhere", members=[UserFactory()])

    budget = BudgetFactory(owner=owner, name=budget_name, currency="EUR", amount_minor=budget_amount_minor)
    share_user(budget, people[EDITOR], "edit")
    share_user(budget, people[VIEWER], "view")
    share_household(budget, flat, "edit")
    foreign_budget = BudgetFactory(owner=stranger, name="Secret", currency="EUR")
    return World(
        **people, home=home, flat=flat, elsewhere=elsewhere, budget=budget, foreign_budget=foreign_budget
    )
