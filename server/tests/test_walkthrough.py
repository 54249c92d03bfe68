"""docs/walkthrough.py, the README's first session, run as a reader would: a separate process
speaking HTTP to a live server holding the demo data. A renamed field, a changed status or a
demo budget without spending this month fails here."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from budgets.models import Budget
from households.models import Household
from transactions.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "walkthrough.py"


def run_walkthrough(base_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--base-url", base_url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_walkthrough_runs_green_on_the_demo_data_and_tidies_up(live_server):
    call_command("seed_demo", allow_without_debug=True, stdout=io.StringIO())
    before = (Budget.objects.count(), Household.objects.count(), Transaction.objects.count())

    result = run_walkthrough(live_server.url)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("Walkthrough complete."), result.stdout
    for step in (
        "201  same key: replayed",
        "200  dry_run=true",
        "201  dry_run=false",
        "200  bob sees it",
        "412  stale",
    ):
        assert step in result.stdout, (step, result.stdout)
    # What it created it deleted: the demo data is as seeded, ready for the next run.
    assert (Budget.objects.count(), Household.objects.count(), Transaction.objects.count()) == before


def test_the_walkthrough_fails_loudly_when_the_api_answers_otherwise(live_server):
    # No demo data: the first login is a 401, and the script says so with exit status 1.
    result = run_walkthrough(live_server.url)

    assert result.returncode == 1
    assert "FAILED: POST /api/v1/auth/token/: expected 200 or 429, got 401" in result.stderr


def test_the_walkthrough_names_a_server_that_is_not_there():
    result = run_walkthrough("http://127.0.0.1:9")

    assert result.returncode == 1
    assert "start it with `make run`" in result.stderr
