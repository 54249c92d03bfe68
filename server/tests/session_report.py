"""What the session reports at its end (the schema check of every error seen, the
schemathesis case counts, the leak matrix's size), also when the suite runs in xdist workers
(`make test` runs two): each worker sends its part to the controlling process in
``workeroutput``, and the controller checks and prints the whole. The root conftest calls
these from its hooks (the controller loads no other conftest)."""

from collections import Counter

import pytest

from server.tests import observed_errors

CASES = pytest.StashKey[dict[str, Counter]]()
_WORKERS = pytest.StashKey[list[dict]]()


def is_worker(config) -> bool:
    return hasattr(config, "workeroutput")


def _own_part(config) -> dict:
    seen = observed_errors.seen_count()
    return {
        "errors_seen": seen,
        "undocumented": observed_errors.undocumented() if seen else [],
        "cases": {run: dict(counts) for run, counts in config.stash.get(CASES, {}).items()},
    }


def worker_finished(config, node) -> None:
    """pytest_testnodedown, in the controller: keep what the worker sent."""
    part = getattr(node, "workeroutput", {}).get("session_report")
    if part is not None:
        config.stash.setdefault(_WORKERS, []).append(part)


def session_finished(session, exitstatus) -> None:
    """A worker hands its part over; the controller (or a run without workers) checks that
    every error seen is documented, and fails the session if not."""
    config = session.config
    if exitstatus != 0:
        return
    if is_worker(config):
        config.workeroutput["session_report"] = _own_part(config)
        return
    parts = [_own_part(config), *config.stash.get(_WORKERS, [])]
    cases = config.stash.setdefault(CASES, {})
    for part in parts[1:]:
        for run, counts in part["cases"].items():
            cases.setdefault(run, Counter()).update(counts)
    seen = sum(part["errors_seen"] for part in parts)
    problems = sorted({line for part in parts for line in part["undocumented"]})
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if problems:
        if reporter:
            reporter.write_sep("=", f"{len(problems)} errors the schema does not document", red=True)
            for line in problems:
                reporter.write_line(line)
        session.exitstatus = 1
    elif seen and reporter:
        workers = f", in {len(parts) - 1} workers" if len(parts) > 1 else ""
        reporter.write_line(f"schema documents every error the suite saw ({seen} kinds{workers})")


def terminal_summary(terminalreporter, config) -> None:
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
    for run, counts in config.stash.get(CASES, {}).items():
        terminalreporter.write_sep("-", f"schemathesis {run} run: {sum(counts.values())} cases")
        for operation, number in sorted(counts.items()):
            terminalreporter.write_line(f"{number:6d}  {operation}")
