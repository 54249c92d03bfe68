"""The schemathesis runs: the deep ones only on request, and a count of the cases they sent."""

import os
from collections import Counter

import pytest

DEEP_MARKER = "schemathesis_deep"
_CASES = pytest.StashKey[dict[str, Counter]]()


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
    counts = request.config.stash.setdefault(_CASES, {})

    def count(run: str, operation: str) -> None:
        counts.setdefault(run, Counter())[operation] += 1

    return count


def pytest_terminal_summary(terminalreporter, config):
    if any(
        "test_leak_matrix.py::test_leak_matrix[" in report.nodeid
        for report in terminalreporter.stats.get("passed", [])
    ):
        from server.tests.test_leak_matrix import matrix_counts

        c = matrix_counts()
        terminalreporter.write_sep(
            "-",
            f"leak matrix: {c['routes']} routes x {c['methods']} methods x {c['actors']} actors = "
            f"{c['cells']} cells; {c['refusals']} refusals, {c['successes']} 2xx; byte comparisons "
            f"with a never-existing id: {c['hidden_object_comparisons']} for hidden objects, "
            f"{c['private_object_comparisons']} for A's private budget's objects",
        )
    runs = config.stash.get(_CASES, {})
    for run, counts in runs.items():
        terminalreporter.write_sep("-", f"schemathesis {run} run: {sum(counts.values())} cases")
        for operation, number in sorted(counts.items()):
            terminalreporter.write_line(f"{number:6d}  {operation}")
