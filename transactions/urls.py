from rest_framework.routers import SimpleRouter

from transactions.views import BudgetReportViewSet, TransactionViewSet

router = SimpleRouter()
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("budgets", BudgetReportViewSet, basename="budget-report")

urlpatterns = router.urls
