"""Which change-log events a caller may read (history/api.py pages them). The routes find
the object with visible_to() first, so an object the caller cannot view now is the
unknown id's 404; these say which of its events they then see.

- A budget's history: every event of the budget (its own, its categories', its
  transactions', deleted ones included, their splits', its shares'); the share events only to
  those who may see its shares (the owner, editors), as budgets/{id}/shares/ does.
- A category's, a transaction's: its own events (a transaction's with its split's and its
  members' parts'), a transaction's only in the budgets the caller can view now.
- Wherever a transaction moved in from a budget the caller cannot view, the move's event
  shows no old values (``viewable_among``): they are that budget's.
- A household's activity: its own events (memberships, settlements) and the events of the
  budgets shared with it that the caller can view now, plus the household's splits and
  shares in budgets the caller can view now. Never an event of a budget the caller cannot
  view: losing a budget hides its past too.
"""

from django.db.models import Q

from budgets.models import Budget, BudgetGroupObjectPermission
from history.models import Event, ObjectType


def _without_shares_unless(events, changeable):
    """Share events only of the budgets in ``changeable`` (ids, or a subquery of them)."""
    return events.filter(~Q(object_type=ObjectType.SHARE) | Q(budget_id__in=changeable))


def budget_events(budget: Budget, *, can_change: bool):
    events = Event.objects.filter(budget_id=budget.pk)
    return events if can_change else events.exclude(object_type=ObjectType.SHARE)


def category_events(category):
    return Event.objects.filter(object_type=ObjectType.CATEGORY, object_id=category.pk)


def viewable_among(user):
    """For history_page: which of some budget ids ``user`` can view now (one query, made
    only for a page that shows a move between budgets)."""

    def viewable(ids: set[int]) -> set[int]:
        visible = Budget.objects.visible_pks(user, "view")
        return set(Budget.objects.filter(pk__in=ids).filter(pk__in=visible).values_list("pk", flat=True))

    return viewable


def transaction_events(tx, user):
    """A transaction's events in the budgets ``user`` can view now: one moved in from another
    budget keeps its life there out of sight, as that budget's history does."""
    viewable = Budget.objects.visible_pks(user, "view")
    return Event.objects.filter(transaction_id=tx.pk, budget_id__in=viewable)


def household_activity(household, user) -> tuple:
    """(the household's own events, (the events of one budget, the ids of the budgets shared
    with the household that ``user`` can view now)): history/api.py reads the second budget by
    budget, each along its own index."""
    viewable = Budget.objects.visible_pks(user, "view")
    changeable = Budget.objects.visible_pks(user, "change")
    shared_here = BudgetGroupObjectPermission.objects.filter(group_id=household.group_id).values(
        "content_object_id"
    )
    budget_ids = list(
        Budget.objects.filter(pk__in=viewable)
        .filter(pk__in=shared_here)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    own = Event.objects.filter(household_id=household.pk).filter(
        Q(budget_id__isnull=True) | Q(budget_id__in=viewable)
    )
    return (
        _without_shares_unless(own, changeable),
        (_without_shares_unless(Event.objects.all(), changeable), budget_ids),
    )
