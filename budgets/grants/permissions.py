"""Who may manage grants: active staff holding budgets.manage_grants (a superuser has it)."""

from rest_framework.permissions import BasePermission

from permissions.scoping import is_active_user

MANAGE_GRANTS = "budgets.manage_grants"


def may_manage_grants(user) -> bool:
    return is_active_user(user) and user.is_staff and user.has_perm(MANAGE_GRANTS)


class CanManageGrants(BasePermission):
    message = "Managing grants needs a staff account with the budgets.manage_grants permission."

    def has_permission(self, request, view):
        return may_manage_grants(request.user)
