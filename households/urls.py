from rest_framework.routers import SimpleRouter

from households.views import HouseholdViewSet, MyInvitationViewSet

router = SimpleRouter()
router.register("households", HouseholdViewSet, basename="household")
router.register("invitations", MyInvitationViewSet, basename="invitation")

urlpatterns = router.urls
