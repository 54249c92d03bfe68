from django.db import models

VIEW, CHANGE = "view", "change"
# Transactions inherit access from their budget: view to read, change (edit) to write.
BUDGET_ACTION_FOR = {VIEW: VIEW, CHANGE: CHANGE, "delete": CHANGE}


class TransactionQuerySet(models.QuerySet):
    # The caller's visible budget ids, kept through filter()/order_by() clones so the
    # paginator can run its per-budget top-N without asking again.
    budget_ids: list[int] | None = None

    def _clone(self):
        clone = super()._clone()
        clone.budget_ids = self.budget_ids
        return clone

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
        scoped = self.filter(budget_id__in=budget_ids)
        scoped.budget_ids = budget_ids
        return scoped
