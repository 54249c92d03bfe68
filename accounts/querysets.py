from django.apps import apps
from django.db import models

from permissions.scoping import is_active_user


class UserQuerySet(models.QuerySet):
    # visible_to reads nothing of the caller but the id (and that the caller is active), so
    # its SQL can be compiled once with a stand-in caller (permissions.scoping.scoped_row).
    scope_reads_caller_id_only = True

    def visible_to(self, user, action: str = "view"):
        """Yourself and the people you share a household with. Nobody else, whatever
        model-wide permissions or superuser flag the caller holds."""
        if not is_active_user(user):
            return self.none()
        if action != "view":
            return self.filter(pk=user.pk)
        membership = apps.get_model("households", "Membership")
        my_households = membership.objects.filter(user=user).values("household_id")
        housemates = membership.objects.filter(household_id__in=my_households).values("user_id")
        return self.filter(models.Q(pk=user.pk) | models.Q(pk__in=housemates))
