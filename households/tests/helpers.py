"""Reading the database back in the households suites."""

from django.contrib.auth.models import Group

from accounts.models import User
from households.models import Household, Invitation, Membership, Role

API = "/api/v1"


def household_url(household_id, suffix: str = "") -> str:
    return f"{API}/households/{household_id}/{suffix}"


def invitation_url(invitation_id, suffix: str = "") -> str:
    return f"{API}/invitations/{invitation_id}/{suffix}"


def db_state() -> dict:
    """Every row the households routes can write, in a comparable form: a refused
    request must leave this exactly as it was."""
    return {
        "households": sorted(Household.objects.values_list("pk", "name", "group_id", "updated_at")),
        "memberships": sorted(Membership.objects.values_list("household_id", "user_id", "role", "joined_at")),
        "invitations": sorted(
            (str(pk), *rest)
            for pk, *rest in Invitation.objects.values_list(
                "pk", "household_id", "email", "role", "status", "responded_at"
            )
        ),
        "groups": sorted(Group.objects.values_list("pk", "name")),
        "group_users": sorted(User.groups.through.objects.values_list("group_id", "user_id")),
    }


def member_ids(household: Household) -> set[int]:
    return set(Membership.objects.filter(household=household).values_list("user_id", flat=True))


def group_user_ids(household: Household) -> set[int]:
    return set(Group.objects.get(pk=household.group_id).user_set.values_list("pk", flat=True))


def roles(household: Household) -> dict[int, str]:
    return dict(Membership.objects.filter(household=household).values_list("user_id", "role"))


def owners(household: Household) -> list[int]:
    return list(
        Membership.objects.filter(household=household, role=Role.OWNER).values_list("user_id", flat=True)
    )


def missing_household_id() -> int:
    last = Household.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return last + 1000


def user_body(user: User) -> dict:
    return {"id": user.pk, "email": user.email, "first_name": user.first_name, "last_name": user.last_name}
