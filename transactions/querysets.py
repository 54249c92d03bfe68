from django.db import models

VIEW, CHANGE = "view", "change"
# Transactions inherit access from their budget: view to read, change (edit) to write.
BUDGET_ACTION_FOR = {VIEW: VIEW, CHANGE: CHANGE, "delete": CHANGE}


class TransactionQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = VIEW):
        """The caller's visible budget ids are resolved first (one small indexed query),
        so the database filters transactions on an exact id list through the
        (budget, date, id) index instead of planning permission subqueries per row."""
        from budgets.models import Budget

        try:
            budget_action = BUDGET_ACTION_FOR[action]
        except KeyError:
            raise ValueError(f"Unknown transaction action {action!r}") from None
        budget_ids = Budget.objects.visible_ids(user, budget_action)
        if not budget_ids:
            return self.none()
        return self.filter(budget_id__in=budget_ids)
