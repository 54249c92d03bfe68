from django.urls import path
from rest_framework.routers import SimpleRouter

from households.views import (
    AcceptInvitationByTokenView,
    DeclineInvitationByTokenView,
    HouseholdViewSet,
    MyInvitationViewSet,
)

router = SimpleRouter()
router.register("households", HouseholdViewSet, basename="household")
router.register("invitations", MyInvitationViewSet, basename="invitation")

urlpatterns = [
    path("invitations/accept/", AcceptInvitationByTokenView.as_view(), name="invitation-accept-by-token"),
    path("invitations/decline/", DeclineInvitationByTokenView.as_view(), name="invitation-decline-by-token"),
    *router.urls,
]
