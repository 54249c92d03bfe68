"""One household with every role in it, and a stranger who lives elsewhere.
(Imported by the households and permissions conftests.)

``world.household`` ("Home"): owner, admin, member, one pending invitation for
``world.invitee``. ``world.elsewhere``: the stranger's own household, with a
member and a pending invitation of its own, so that foreign rows exist.
"""

from dataclasses import dataclass

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from households.models import Household, Invitation
from households.tests.factories import InvitationFactory, make_household

ACTORS = ("owner", "admin", "member", "stranger", "anonymous")


@dataclass
class World:
    household: Household
    owner: User
    admin: User
    member: User
    invitee: User
    invitation: Invitation
    stranger: User
    elsewhere: Household
    foreign_invitation: Invitation


@pytest.fixture
def world(db) -> World:
    owner, admin, member = UserFactory(), UserFactory(), UserFactory()
    household = make_household(owner, name="Home", admins=[admin], members=[member])
    invitee = UserFactory(email="invitee@example.com")
    invitation = InvitationFactory(household=household, email=invitee.email, role="member")
    stranger = UserFactory()
    elsewhere = make_household(stranger, name="Elsewhere", members=[UserFactory()])
    foreign_invitation = InvitationFactory(household=elsewhere, email="foreign-invitee@example.com")
    return World(
        household=household,
        owner=owner,
        admin=admin,
        member=member,
        invitee=invitee,
        invitation=invitation,
        stranger=stranger,
        elsewhere=elsewhere,
        foreign_invitation=foreign_invitation,
    )


@pytest.fixture
def as_(world, client_for, anon):
    """``as_("admin")`` -> an API client for that actor of ``world``; "anonymous" has no credentials."""

    def make(actor: str):
        if actor == "anonymous":
            return anon
        return client_for(getattr(world, actor))

    return make
