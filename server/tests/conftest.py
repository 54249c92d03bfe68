"""The schemathesis runs: the deep ones only on request, and a count of the cases they sent."""

import os
from collections import Counter

import pytest

from server.tests.session_report import CASES

DEEP_MARKER = "schemathesis_deep"


def pytest_collection_modifyitems(config, items):
    """`schemathesis_deep` tests run only with SCHEMATHESIS_DEEP=1 (make test-deep); otherwise
    they are deselected, not skipped."""
    if os.environ.get("SCHEMATHESIS_DEEP") == "1":
        return
    deselected = [item for item in items if item.get_closest_marker(DEEP_MARKER)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(DEEP_MARKER)]


@pytest.fixture
def count_case(request):
    """count_case("quick", "GET /api/v1/budgets/"): one more case sent in that run; the totals
    are printed at the end of the session."""
    counts = request.config.stash.setdefault(CASES, {})

    def count(run: str, operation: str) -> None:
        counts.setdefault(run, Counter())[operation] += 1

    return count
