import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone

from households.querysets import HouseholdQuerySet, InvitationQuerySet, MembershipQuerySet
from server.versioning import version_field


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Household(models.Model):
    name = models.CharField(max_length=100)
    # The household's members are exactly this group's users; household-wide budget
    # shares hang on it through django-guardian. Never given model-level permissions.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="household", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = version_field()

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    @staticmethod
    def group_name_for(pk: int) -> str:
        return f"household:{pk}"

    def owned_by(self, user) -> bool:
        role = getattr(self, "my_role", None)
        if role is not None and getattr(self, "my_role_user_id", None) == getattr(user, "pk", None):
            return role == Role.OWNER
        return self.memberships.filter(user_id=getattr(user, "pk", None), role=Role.OWNER).exists()


class Membership(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    version = version_field()

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "user"], name="households_one_membership_per_user"),
            models.UniqueConstraint(
                fields=["household"], condition=Q(role="owner"), name="households_one_owner_per_household"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "admin", "member"]), name="households_membership_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["user", "household"], name="households_member_user_idx")]

    def __str__(self):
        return f"{self.user} in {self.household} ({self.role})"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class InvitationRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Invitation(models.Model):
    # Unguessable ids: knowing one invitation's id says nothing about another's.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10, choices=InvitationRole.choices, default=InvitationRole.MEMBER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "email"],
                condition=Q(status="pending"),
                name="households_one_pending_invitation_per_email",
            ),
        ]
        indexes = [models.Index(fields=["email", "status"], name="households_invite_email_idx")]

    def __str__(self):
        return f"{self.email} to {self.household}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def effective_status(self) -> str:
        if self.status == InvitationStatus.PENDING and self.is_expired:
            return InvitationStatus.EXPIRED
        return self.status
