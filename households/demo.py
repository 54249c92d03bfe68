"""seed_demo step: two households with members and one pending invitation."""

from datetime import timedelta

from django.utils import timezone

from accounts.demo import DemoData
from households import services
from households.models import Household, Invitation, InvitationStatus, Membership, Role

# name -> (owner key, {member key: role})
DEMO_HOUSEHOLDS = {
    "Archer family": ("alice", {"bob": Role.ADMIN, "carol": Role.MEMBER}),
    "Flat 4B": ("carol", {"dave": Role.MEMBER}),
}
PENDING_INVITE = ("Flat 4B", "erin@example.com")


def remove_households(users) -> int:
    """For `seed_demo --reset`: deletes the households ``users`` own, through the service, so
    their members leave them as they would through the API (with the shares that needed
    them). Their shared costs go with them (force: the demo's splits are never settled).
    Returns how many went."""
    households = Household.objects.filter(memberships__user__in=users, memberships__role=Role.OWNER)
    removed = 0
    for household in households.order_by("pk"):
        services.household_delete(household=household, force=True)
        removed += 1
    return removed


def seed_households(data: DemoData) -> None:
    for name, (owner_key, members) in DEMO_HOUSEHOLDS.items():
        owner = data.users[owner_key]
        household = Household.objects.filter(
            name=name, memberships__user=owner, memberships__role=Role.OWNER
        ).first()
        if household is None:
            household = services.household_create(name=name, actor=owner)
            data.record_created(household)
        for key, role in members.items():
            user = data.users[key]
            if not Membership.objects.filter(household=household, user=user).exists():
                membership = Membership.objects.create(household=household, user=user, role=role)
                household.group.user_set.add(user)
                data.record_created(membership)
        data.households[name] = household

    household = data.households[PENDING_INVITE[0]]
    if not Invitation.objects.filter(household=household, email=PENDING_INVITE[1]).exists():
        invitation = Invitation.objects.create(
            household=household,
            email=PENDING_INVITE[1],
            role=Role.MEMBER,
            invited_by=household.memberships.get(role=Role.OWNER).user,
            status=InvitationStatus.PENDING,
            expires_at=timezone.now() + timedelta(days=365),
        )
        data.record_created(invitation)
