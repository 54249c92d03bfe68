"""IsOwner and IsShared: the object-level checks every tenant viewset uses.

A viewset's rows already come from ``visible_to(user, "view")``, so an object a
caller cannot see is a 404 before these run. These decide the 403: may this caller
perform the view's action on an object they can see?
"""

from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from permissions.scoping import VIEW, is_active_user, owns, visible


class IsOwner(BasePermission):
    """The object's owner (``obj.owned_by(user)``) may do anything the model allows owners."""

    def has_permission(self, request, view):
        return is_active_user(request.user)

    def has_object_permission(self, request, view, obj):
        return owns(request.user, obj)


class IsShared(BasePermission):
    """Someone the object is shared with, at the level the action needs."""

    message = "Your access to this item does not allow that action."

    def has_permission(self, request, view):
        return is_active_user(request.user)

    def has_object_permission(self, request, view, obj):
        action = view.scope_action_for_request()
        if action == VIEW:
            return True  # the object came out of visible_to(user, "view")
        if visible(type(obj), request.user, action).filter(pk=obj.pk).exists():
            return True
        if not visible(type(obj), request.user, VIEW).filter(pk=obj.pk).exists():
            # Deleted, or the caller's access revoked, since get_object() read it: answer
            # as for any object they cannot see.
            raise NotFound()
        return False
