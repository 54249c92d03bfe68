from rest_framework.routers import SimpleRouter

from transactions.batch import TransactionBatchViewSet
from transactions.files import TransactionFileViewSet
from transactions.reports import BudgetReportViewSet
from transactions.splits.views import HouseholdSharingViewSet
from transactions.sync import BudgetSyncViewSet
from transactions.views import TransactionViewSet

router = SimpleRouter()
# bulk/, export/ and import/ before transactions/{id}/, whose pattern would take them.
router.register("transactions", TransactionBatchViewSet, basename="transaction-batch")
router.register("transactions", TransactionFileViewSet, basename="transaction-file")
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("budgets", BudgetReportViewSet, basename="budget-report")
router.register("budgets", BudgetSyncViewSet, basename="budget-sync")
# households/{id}/ledger/, balances/, debts/, settlements/: shared costs are sums of transactions.
router.register("households", HouseholdSharingViewSet, basename="household-sharing")

urlpatterns = router.urls
