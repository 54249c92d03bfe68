"""The phase profiler (bench/phases.py, manage.py profile_phases): self times that add up to
the request, wrappers that change no answer, and an undo that leaves the classes as found."""

import io
import re
import time

import pytest
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.views import APIView

from bench import phases
from transactions.models import Transaction

pytestmark = pytest.mark.django_db


def test_a_phase_keeps_only_its_own_time():
    clock = phases.PhaseClock()
    with clock.phase("outer"):
        time.sleep(0.02)
        with clock.phase("inner"):
            time.sleep(0.03)
    totals = clock.reset()
    assert 0.02 <= totals["outer"] < 0.03
    assert totals["inner"] >= 0.03
    assert clock.reset() == {}


def test_wrapping_is_undone_exactly():
    before = (APIView.__dict__["dispatch"], "check_throttles" in APIView.__dict__)
    phases.instrument()
    try:
        assert hasattr(APIView.__dict__["dispatch"], "__phase_original__")
        phases.instrument()  # twice: still one wrapper
        assert not hasattr(APIView.__dict__["dispatch"].__phase_original__, "__phase_original__")
    finally:
        phases.uninstrument()
    assert (APIView.__dict__["dispatch"], "check_throttles" in APIView.__dict__) == before


@pytest.fixture
def connection_kept_between_requests():
    """As Django's test client does: the test's transaction outlives each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("connection_kept_between_requests")
def test_profile_phases_measures_the_five_requests_and_leaves_no_row(settings):
    settings.DEBUG = False
    call_command("seed_bench", "--scale", "small", "--quiet", stdout=io.StringIO())
    before = Transaction.objects.count()
    out = io.StringIO()

    call_command("profile_phases", "--requests", "3", "--warmup", "1", stdout=out)

    table = out.getvalue()
    assert "| phase | health | retrieve | create | list of 50 | 3-month filter |" in table
    for phase in ("database", "authentication", "serializer: output", "middleware: IdempotencyMiddleware"):
        assert re.search(rf"\| {re.escape(phase)} \| [0-9.]+ \|", table), (phase, table)
    # Every request of the retrieve column is accounted for: its phases sum to its wall time.
    rows = dict(re.findall(r"^\| ([^|]+?) \| [0-9.]+ \| ([0-9.]+) \|", table, re.MULTILINE))
    phase_sum = sum(float(value) for name, value in rows.items() if not name.startswith("("))
    assert phase_sum == pytest.approx(float(rows["(mean wall)"]), rel=0.25)
    assert Transaction.objects.count() == before
    assert not hasattr(APIView.__dict__["dispatch"], "__phase_original__")
