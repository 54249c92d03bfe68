from django.db import models

VIEW, CHANGE = "view", "change"
# Transactions inherit access from their budget: view to read, change (edit) to write.
BUDGET_ACTION_FOR = {VIEW: VIEW, CHANGE: CHANGE, "delete": CHANGE}


class TransactionQuerySet(models.QuerySet):
    # visible_to reads nothing of the caller but the id (and that the caller is active), so
    # its SQL can be compiled once with a stand-in caller (permissions.scoping.scoped_row).
    scope_reads_caller_id_only = True

    def visible_to(self, user, action: str = VIEW):
        """Transactions of the budgets the caller may view (or change, for writes).

        The budget ids come from one UNION of three indexed lookups (owned, shared with
        me, shared with my households), so the database filters transactions through
        the (budget, date, id) index instead of planning permission subqueries per row."""
        from budgets.models import Budget

        budget_action = _budget_action(action)
        return self.filter(budget_id__in=Budget.objects.visible_pks(user, budget_action))

    def visible_in_budget(self, user, budget_id, action: str = VIEW):
        """visible_to(user, action) within one budget: that budget's rows if the caller may
        view (change) it, else none. The right is one uncorrelated EXISTS, which PostgreSQL
        checks once for the statement (a one-time filter), where ``budget_id IN (scope)``
        is a semi join probed for every row the filters keep (2,057 in a 3-month filter of
        one category: EXPLAIN ANALYZE 1.8 ms against 1.1)."""
        from budgets.models import Budget

        budget_action = _budget_action(action)
        allowed = Budget.objects.visible_to(user, budget_action).filter(pk=budget_id)
        return self.filter(models.Exists(allowed), budget_id=budget_id)


def _budget_action(action: str) -> str:
    """The budget right a transaction action needs (BUDGET_ACTION_FOR)."""
    try:
        return BUDGET_ACTION_FOR[action]
    except KeyError:
        raise ValueError(f"Unknown transaction action {action!r}") from None
