from rest_framework.routers import SimpleRouter

from budgets.grants.views import GrantViewSet

router = SimpleRouter()
router.register("grants", GrantViewSet, basename="admin-grant")

urlpatterns = router.urls
