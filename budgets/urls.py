from rest_framework.routers import SimpleRouter

from budgets.views import BudgetViewSet, CategoryViewSet, HouseholdActivityViewSet

router = SimpleRouter()
router.register("budgets", BudgetViewSet, basename="budget")
router.register("categories", CategoryViewSet, basename="category")
# households/{id}/activity/: the budgets shared with a household are read here, above households.
router.register("households", HouseholdActivityViewSet, basename="household-activity")

urlpatterns = router.urls
