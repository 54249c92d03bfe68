"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from django.test import Client, TestCase
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from server.tests import observed_errors, session_report
from server.tests.world import api_client


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def transaction_count_drift() -> dict[int, tuple[int, int]]:
    """Budgets whose kept transaction count differs from their rows: {budget: (kept, rows)}."""
    from django.db.models import Count

    from transactions.models import BudgetTransactionCount, Transaction

    rows = dict(Transaction.objects.order_by().values_list("budget_id").annotate(n=Count("id")))
    kept = dict(BudgetTransactionCount.objects.exclude(total=0).values_list("budget_id", "total"))
    return {
        b: (kept.get(b, 0), rows.get(b, 0)) for b in rows.keys() | kept.keys() if kept.get(b) != rows.get(b)
    }


def month_total_drift() -> dict[tuple, tuple]:
    """(budget, month, kind, category) keys whose kept total differs from their rows:
    {key: ((total, entries) kept, (total, entries) of the rows)}; None for no such key."""
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncMonth

    from transactions.models import BudgetMonthTotal, Transaction

    groups = (
        Transaction.objects.order_by()
        .annotate(month=TruncMonth("date"))
        .values_list("budget_id", "month", "kind", "category_id")
        .annotate(total=Sum("amount_minor"), entries=Count("id"))
    )
    rows = {(b, m, k, c or 0): (t, n) for b, m, k, c, t, n in groups}
    kept = {
        (b, m, k, c): (t, n)
        for b, m, k, c, t, n in BudgetMonthTotal.objects.values_list(
            "budget_id", "month", "kind", "category_key", "total_minor", "entries"
        )
    }
    return {
        key: (kept.get(key), rows.get(key))
        for key in rows.keys() | kept.keys()
        if kept.get(key) != rows.get(key)
    }


@pytest.fixture
def counts_unchecked(request):
    """For a test that skews the transaction counters on purpose."""
    request.node.counts_unchecked = True


@pytest.fixture(autouse=True)
def _transaction_counts_stay_exact(request):
    """Every test that used the database ends with each budget's transaction counter, and
    each of its month totals, equal to its rows, so the whole suite exercises the counting
    and month total triggers' write paths."""
    db_fixture = next((name for name in ("transactional_db", "db") if name in request.fixturenames), None)
    if db_fixture is None and request.node.get_closest_marker("django_db") is None:
        yield
        return
    if db_fixture is not None:
        request.getfixturevalue(db_fixture)  # torn down after this check, not before
    yield
    if not getattr(request.node, "counts_unchecked", False):
        assert transaction_count_drift() == {}
        assert month_total_drift() == {}


@pytest.fixture(autouse=True)
def _commit_hooks_after_each_request(request, monkeypatch):
    """Mail goes out when the request's transaction commits (server/mail.py). A test's own
    transaction never commits, so each test client request runs the hooks its request's
    writes left, as a real commit would, and drops those of a request that rolled back."""
    if request.node.get_closest_marker("django_db") is None and not (
        {"db", "transactional_db"} & set(request.fixturenames)
    ):
        return
    send = Client.request

    def request_then_commit_hooks(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = send(self, **kwargs)
        observed_errors.record(response)
        return response

    monkeypatch.setattr(Client, "request", request_then_commit_hooks)


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def client_for():
    """An API client authenticated with a real access token for the given user."""
    return api_client


@pytest.fixture
def as_(world):
    """``as_("viewer")`` -> an API client for that actor of the ``world`` fixture in scope
    (the names are server/tests/world.py's); "anonymous" gets one without credentials."""
    return world.client


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api(user, client_for):
    return client_for(user)


def pytest_sessionfinish(session, exitstatus):
    """Every error a test client saw is documented for its route (server/tests/observed_errors.py)."""
    session_report.session_finished(session, exitstatus)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist, in the controller: a worker's part of the session's report."""
    session_report.worker_finished(node.config, node)


def pytest_terminal_summary(terminalreporter, config):
    session_report.terminal_summary(terminalreporter, config)
