"""Households are built through the services, so the group stays in step with members."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from households import services
from households.models import Household, Membership, Role


def make_household(owner=None, *, name="Home", admins=(), members=()) -> Household:
    owner = owner or UserFactory()
    household = services.household_create(name=name, actor=owner)
    for user in admins:
        add_member(household, user, Role.ADMIN)
    for user in members:
        add_member(household, user, Role.MEMBER)
    return household


def add_member(household: Household, user, role: str = Role.MEMBER) -> Membership:
    membership = Membership.objects.create(household=household, user=user, role=role)
    household.group.user_set.add(user)
    return membership


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "households.Invitation"

    household = factory.LazyFunction(make_household)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = "member"
    invited_by = factory.LazyAttribute(lambda o: o.household.memberships.get(role="owner").user)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
