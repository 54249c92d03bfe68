"""The shared world (server/tests/world.py) with pending invitations on both sides.
(Imported by the households and permissions conftests.)

``world.home`` ("Home"): owner, admin, and members editor, viewer and member, in that
order; one pending invitation to it (``world.invitation``, role member) for
``world.invitee``, who is in no household. ``world.elsewhere``: the stranger's own
household (with a housemate) and a pending invitation of its own
(``world.foreign_invitation``), so that foreign rows exist.
"""

from dataclasses import dataclass

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from households.models import Invitation
from households.tests.factories import InvitationFactory
from server.tests.world import World, build_world


@dataclass
class HouseholdsWorld(World):
    invitee: User
    invitation: Invitation
    foreign_invitation: Invitation


@pytest.fixture
def world(db) -> HouseholdsWorld:
    world = build_world()
    invitee = UserFactory(email="invitee@example.com")
    invitation = InvitationFactory(household=world.home, email=invitee.email, role="member")
    foreign_invitation = InvitationFactory(household=world.elsewhere, email="foreign-invitee@example.com")
    return HouseholdsWorld.extend(
        world, invitee=invitee, invitation=invitation, foreign_invitation=foreign_invitation
    )
