"""manage.py bench_import (issue 16, item 5's in-process measurement) on a small seed_bench data
set: the import, its dry run and bulk/ each answer as the bench expects, with and without
split rows, and every run's rows and categories are gone afterwards."""

import io
import json

import pytest
from django.core.management import call_command

from bench.import_file import HEADER, import_csv
from budgets.models import Category
from transactions.models import Split, Transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_seed():
    call_command("seed_bench", "--scale", "small", "--quiet", stdout=io.StringIO())


def state() -> tuple[int, int, int]:
    return Transaction.objects.count(), Category.objects.count(), Split.objects.count()


@pytest.mark.parametrize("splits", [False, True])
def test_import_dry_run_and_bulk_answer_and_leave_the_data_set_as_it_was(small_seed, splits):
    before = state()
    out = io.StringIO()
    args = ["--rows", "400", "--items", "30", "--repeat", "1", *(["--splits"] if splits else [])]
    call_command("bench_import", *args, stdout=out, stderr=io.StringIO())
    report = json.loads(out.getvalue().splitlines()[-1])
    # 400 rows: 100 of them copies of the budget's newest rows, 4 repeated within the file.
    assert report["import"] == report["dry_run"] == {"created": 296, "skipped": 104}
    assert report["bulk"] == {"created": 30}
    assert len(report["import_s"]) == len(report["dry_run_s"]) == len(report["bulk_ms"]) == 1
    assert state() == before


def test_the_file_has_the_rows_asked_for():
    text = import_csv(1000, categories=["Food"], existing=[("2026-01-01", "1.00", "expense", "A", "")])
    lines = text.splitlines()
    assert lines[0] == ",".join(HEADER) and len(lines) == 1001
    assert "2026-01-01,1.00,expense,,A,," in lines
