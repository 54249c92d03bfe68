"""Writes for households, memberships and invitations.

Every membership change keeps the household's auth Group in step inside the same
transaction: the group's users are exactly the members, because household-wide
budget shares hang on that group.

Every write here first locks the household row (lock_households), and so does every
budget share that depends on a membership (budgets/services.py): a share and a departure
from the same household run one after the other, never interleaved, so access never
outlives membership. The whole lock order is in docs/architecture.md.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts.models import User, normalise_email
from households.emails import send_invitation
from households.models import Household, Invitation, InvitationRole, InvitationStatus, Membership, Role
from households.signals import household_deleting, membership_ended, membership_ending
from permissions.fields import PK_RANGE
from server.conditional import NO_PRECONDITION, Precondition
from server.exceptions import Conflict
from server.fields import invalid_choice_message
from server.integrity import on_violation
from server.versioning import delete_at_version, save_fields


def _already_invited() -> ValidationError:
    return ValidationError(
        {"email": ["This email already has a pending invitation to the household."]}, code="already_invited"
    )


def _already_member() -> Conflict:
    return Conflict("You are already a member of this household.", code="already_member")


on_violation(
    "households_one_pending_invitation_per_email",
    "households_invitation.household_id, households_invitation.email",
    error=_already_invited,
)
on_violation(
    "households_one_owner_per_household",
    "households_membership.household_id",  # SQLite names the partial unique index by its column
    error=lambda: Conflict(
        "A household has exactly one owner; ownership moves only by a transfer.", code="one_owner"
    ),
)
on_violation(
    "households_one_membership_per_user",
    "households_membership.household_id, households_membership.user_id",
    error=_already_member,
)


def lock_households(ids) -> list[int]:
    """Locks the household rows (ascending id, so two writers never wait on each other in
    a circle) until the transaction ends; returns the ids that still exist. The first
    step of every membership write, and of every share that depends on a membership."""
    ids = [pk for pk in ids if pk in PK_RANGE]  # an id from a URL may be out of any column's range
    if not ids:
        return []  # most writes touch no household (a transaction without a split)
    return list(
        Household.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True)
    )


def _lock_household(household: Household) -> Household:
    """The household's row, locked and freshly read; 404 if a request that got there first
    deleted it."""
    locked = (
        Household.objects.select_related("group")
        .select_for_update(of=("self",))
        .filter(pk=household.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _membership_started(*, household: Household, user: User) -> None:
    household.group.user_set.add(user)


def _membership_ended(*, household: Household, user: User) -> None:
    """Everything that must go when someone stops being a member, in the caller's transaction:
    the household group's membership here, the shares it carried in budgets (a receiver of
    membership_ended; its failure rolls the whole change back)."""
    household.group.user_set.remove(user)
    membership_ended.send(sender=Membership, household=household, user=user)


@transaction.atomic
def household_create(*, name: str, actor: User) -> Household:
    group = Group.objects.create(name=f"household:new:{uuid.uuid4()}")
    # Version 0: its first membership (a new version, by the trigger) makes it 1, as every
    # new object starts.
    household = Household.objects.create(name=name, group=group, version=0)
    group.name = Household.group_name_for(household.pk)
    group.save(update_fields=["name"])
    Membership.objects.create(household=household, user=actor, role=Role.OWNER)
    _membership_started(household=household, user=actor)
    return household


@transaction.atomic
def household_update(
    *, household: Household, name: str, precondition: Precondition = NO_PRECONDITION
) -> Household:
    household = _lock_household(household)
    precondition.check(household)
    household.name = name
    save_fields(household, ["name", "updated_at"], precondition=precondition)
    return household


@transaction.atomic
def household_delete(
    *, household: Household, precondition: Precondition = NO_PRECONDITION, force: bool = False
) -> None:
    """Deleting the household ends every membership; its group, and with it every
    household-wide share, goes too. The apps above may refuse it (household_deleting: shared
    costs not settled yet, unless ``force``)."""
    household = _lock_household(household)
    precondition.check(household)
    household_deleting.send(sender=Household, household=household, force=force)
    for membership in household.memberships.select_related("user").select_for_update(of=("self",)):
        membership.delete()
        _membership_ended(household=household, user=membership.user)
    group = household.group
    # Locked since the check above; removing its memberships just bumped its version.
    Household.objects.filter(pk=household.pk).delete()
    group.delete()


def _locked_membership(household: Household, user_id) -> Membership:
    # user__pk (not user_id=): the primary key's integer lookup, so an id from the URL too
    # large for the column matches nothing instead of overflowing the SQLite driver.
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(household=household, user__pk=user_id)
    ).first()
    if membership is None:
        raise NotFound()
    return membership


@transaction.atomic
def membership_change_role(
    *,
    household: Household,
    user_id: int,
    role: str,
    actor: User,
    precondition: Precondition = NO_PRECONDITION,
) -> Membership:
    _lock_household(household)
    actor_membership = _locked_membership(household, actor.pk)
    if actor_membership.role != Role.OWNER:
        raise PermissionDenied(
            "Only the household's owner can change roles.", code="only_owner_changes_roles"
        )
    target = _locked_membership(household, user_id)
    if target.pk == actor_membership.pk:
        raise ValidationError(
            {"role": ["You are the owner; transfer ownership to another member instead."]},
            code="owner_cannot_demote_self",
        )
    precondition.check(target)
    if role == Role.OWNER:
        # Demote first: the database allows one owner per household at a time.
        actor_membership.role = Role.ADMIN
        actor_membership.save(update_fields=["role"])
    target.role = role
    save_fields(target, ["role"], precondition=precondition)
    return target


@transaction.atomic
def membership_remove(
    *,
    household: Household,
    user_id: int,
    actor: User,
    precondition: Precondition = NO_PRECONDITION,
    force: bool = False,
) -> None:
    """``force``: the owner removes a member whose shared costs are not settled; what they
    still owe or are owed is written off (membership_ending's receivers)."""
    _lock_household(household)
    actor_membership = _locked_membership(household, actor.pk)
    target = _locked_membership(household, user_id)
    if target.pk == actor_membership.pk:
        raise PermissionDenied("You cannot remove yourself; leave the household instead.")
    allowed = actor_membership.role == Role.OWNER or (
        actor_membership.role == Role.ADMIN and target.role == Role.MEMBER
    )
    if not allowed:
        raise PermissionDenied("Your role does not allow removing this member.")
    if force and actor_membership.role != Role.OWNER:
        raise PermissionDenied(
            "Only the household's owner can remove a member by force.", code="only_owner_forces"
        )
    precondition.check(target)
    membership_ending.send(sender=Membership, household=household, user=target.user, actor=actor, force=force)
    delete_at_version(target, precondition=precondition)
    _membership_ended(household=household, user=target.user)


@transaction.atomic
def membership_leave(*, household: Household, user: User) -> None:
    _lock_household(household)
    membership = _locked_membership(household, user.pk)
    others = household.memberships.exclude(pk=membership.pk).count()
    if membership.role == Role.OWNER and others:
        raise Conflict(
            "The owner cannot leave while other members remain; transfer ownership first.",
            code="owner_must_transfer",
        )
    if not others:
        household_delete(household=household)
        return
    membership_ending.send(sender=Membership, household=household, user=user, actor=user, force=False)
    membership.delete()
    _membership_ended(household=household, user=user)


@transaction.atomic
def invitation_create(*, household: Household, email: str, role: str, actor: User) -> Invitation:
    """Owners invite members and admins; admins invite members only. The invitation email
    carries the token that lets its mailbox accept (households/emails.py)."""
    if role not in InvitationRole.values:
        # Ownership only ever moves by transfer; an invitation can never make a second owner.
        raise ValidationError(
            {"role": [invalid_choice_message(role, InvitationRole.values)]}, code="invalid_choice"
        )
    email = normalise_email(email)
    _lock_household(household)
    actor_role = household.memberships.filter(user=actor).values_list("role", flat=True).first()
    if actor_role not in (Role.OWNER, Role.ADMIN):  # their role changed since the request began
        raise PermissionDenied(
            "Only the household's owner and admins invite people.", code="permission_denied"
        )
    if role == Role.ADMIN and actor_role != Role.OWNER:
        raise PermissionDenied(
            "Only the household's owner can invite an admin.", code="only_owner_invites_admins"
        )
    if household.memberships.filter(user__email=email).exists():
        raise ValidationError(
            {"email": ["This person is already a member of the household."]}, code="already_member"
        )
    pending = Invitation.objects.select_for_update().filter(
        household=household, email=email, status=InvitationStatus.PENDING
    )
    for invitation in pending:
        if not invitation.is_expired:
            raise _already_invited()
        invitation.status = InvitationStatus.EXPIRED
        invitation.save(update_fields=["status"])
    now = timezone.now()
    invitation = Invitation.objects.create(
        household=household,
        email=email,
        role=role,
        invited_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    inviter = f"{actor.first_name} {actor.last_name}".strip() or actor.email
    send_invitation(invitation, inviter_name=inviter)
    return invitation


def _locked_pending(invitation: Invitation) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("household__group")
        .filter(pk=invitation.pk)
        .first()
    )
    if invitation is None:
        raise NotFound()  # its household was deleted meanwhile
    if invitation.status == InvitationStatus.PENDING and invitation.is_expired:
        invitation.status = InvitationStatus.EXPIRED
        invitation.save(update_fields=["status"])
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(
            f"This invitation is {invitation.status} and can no longer be used.",
            code=f"invitation_{invitation.status}",
        )
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    invitation = _locked_pending(invitation)
    invitation.status = InvitationStatus.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User, by_token: bool = False) -> Membership:
    """``user`` joins with the invitation's role. Reached by the invitation's id (for an account
    whose verified email is the invitation's address) or by its token (``by_token``: the
    mailbox is proven, so an account with that address, unverified until now, is verified)."""
    if not lock_households([invitation.household_id]):
        raise NotFound()
    invitation = _locked_pending(invitation)
    household = invitation.household
    if household.memberships.filter(user=user).exists():
        raise _already_member()
    if by_token and user.email == invitation.email and not user.email_verified:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    invitation.status = InvitationStatus.ACCEPTED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    membership = Membership.objects.create(household=household, user=user, role=invitation.role)
    _membership_started(household=household, user=user)
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation) -> None:
    invitation = _locked_pending(invitation)
    invitation.status = InvitationStatus.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
