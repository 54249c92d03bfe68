"""manage.py bench_export (bench/export.py's in-process half) on a small seed_bench data set:
every row exported and counted, and the user it makes for --all never left behind."""

import io
import json

import pytest
from django.core.management import call_command

from accounts.models import User
from bench.management.commands.bench_export import ALL_USER
from transactions.models import Transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_seed():
    call_command("seed_bench", "--scale", "small", "--quiet", stdout=io.StringIO())


def run(*args) -> str:
    out = io.StringIO()
    call_command("bench_export", *args, stdout=out)
    return out.getvalue()


def test_the_largest_budget_of_bench_recent_is_exported_whole(small_seed):
    report = json.loads(run("--repeat", "2").splitlines()[-1])
    big = max(
        Transaction.objects.filter(budget__name__startswith="Anchor 0").values_list("budget_id", flat=True),
        key=lambda pk: Transaction.objects.filter(budget_id=pk).count(),
    )
    assert report["path"].endswith(f"?budget={big}")
    assert [r["rows"] for r in report["runs"]] == [Transaction.objects.filter(budget_id=big).count()] * 2
    assert report["memory_after"]["VmHWM"] >= report["memory_before"]["VmHWM"] > 0


def test_all_exports_every_row_and_leaves_no_user_behind(small_seed):
    report = json.loads(run("--all").splitlines()[-1])
    assert report["runs"][0]["rows"] == Transaction.objects.count() == 5_000
    assert not User.objects.filter(email=ALL_USER).exists()


def test_grant_all_then_revoke_all(small_seed):
    run("--grant-all")
    assert User.objects.get(email=ALL_USER).budgetuserobjectpermission_set.count() > 0
    run("--revoke-all")
    assert not User.objects.filter(email=ALL_USER).exists()
