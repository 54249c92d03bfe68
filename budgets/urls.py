from rest_framework.routers import SimpleRouter

from budgets.views import BudgetViewSet, CategoryViewSet

router = SimpleRouter()
router.register("budgets", BudgetViewSet, basename="budget")
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = router.urls
