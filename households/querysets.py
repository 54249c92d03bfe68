from django.db import models
from django.db.models import Count, OuterRef, Subquery, Value
from django.utils import timezone

from permissions.scoping import is_active_user as _active

OWNER, ADMIN, MEMBER = "owner", "admin", "member"

# Which roles may perform each tenant action on a household (and its members and invitations).
ROLES_FOR_ACTION = {
    "view": (OWNER, ADMIN, MEMBER),
    "change": (OWNER, ADMIN),
    "invite": (OWNER, ADMIN),
    "delete": (OWNER,),
}


def _roles(action: str) -> tuple[str, ...]:
    try:
        return ROLES_FOR_ACTION[action]
    except KeyError:
        raise ValueError(f"Unknown household action {action!r}") from None


class HouseholdQuerySet(models.QuerySet):
    # visible_to reads nothing of the caller but the id (and that the caller is active), so
    # its SQL can be compiled once with a stand-in caller (permissions.scoping.scoped_row).
    scope_reads_caller_id_only = True

    def visible_to(self, user, action: str = "view"):
        roles = _roles(action)
        if not _active(user):
            return self.none()
        from households.models import Membership

        mine = Membership.objects.filter(user=user, role__in=roles).values("household_id")
        return self.filter(pk__in=mine)

    def with_my_role(self, user):
        from households.models import Membership

        role = Membership.objects.filter(household=OuterRef("pk"), user=user).values("role")[:1]
        return self.annotate(my_role=Subquery(role), my_role_user_id=Value(user.pk))

    def with_member_count(self):
        return self.annotate(member_count=Count("memberships", distinct=True))


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view"):
        from households.models import Household

        return self.filter(household__in=Household.objects.visible_to(user, action).values("pk"))


class InvitationQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view"):
        """ "view"/"respond": invitations addressed to the caller's email, once that email is
        verified (an account claiming an address it never proved sees none; the invitation
        email's token works regardless); "invite": invitations of households the caller may
        invite to."""
        if not _active(user):
            return self.none()
        if action in ("view", "respond"):
            if user.email_verified_at is None:
                return self.none()
            return self.filter(email=user.email)
        from households.models import Household

        return self.filter(household__in=Household.objects.visible_to(user, action).values("pk"))

    def open(self):
        """Pending and not yet expired."""
        return self.filter(status="pending", expires_at__gt=timezone.now())
