"""`manage.py bench_import`: the CSV import of 50,000 rows (real run and dry run) and bulk/ of
1,000 items, in-process, on a seed_bench database (issue 16, item 5; docs/performance.md).

    .venv/bin/python -m bench.imports --db postgres://postgres@127.0.0.1:5432/budget_bench_1m

Each request runs through Django's WSGI handler, middleware and authentication included, no
HTTP: what a worker does for it, the socket left out. The importer is the owner of
bench-recent's largest budget (about 50,000 rows at 1M), importing into it the file of
bench/import_file.py (with --splits, one row in ten split among the household the budget is
shared with). What a real run created is deleted after each measurement (not timed), so the
database is left as it was. --profile FILE writes the cProfile statistics of one more real
import and prints its top functions.
"""

import cProfile
import io
import json
import pstats
import time

from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection

from accounts.models import User
from accounts.services import token_pair_for
from bench import phases
from bench.import_file import NEW_CATEGORIES, bulk_items, import_csv
from bench.writes import multipart
from budgets.models import Budget, BudgetGroupObjectPermission, Category
from households.models import Household, Membership
from money.amounts import format_amount
from transactions.models import BudgetTransactionCount, Transaction

IMPORT = "/api/v1/transactions/import/"
BULK = "/api/v1/transactions/bulk/"


def bench_subject(user: str = "bench-recent@bench.example") -> dict:
    """bench-recent's largest budget, its owner, the household it is shared with."""
    person = User.objects.filter(email=user).first()
    if person is None:
        raise CommandError(f"No user {user}: run it on a seed_bench database.")
    visible = Budget.objects.visible_pks(person)
    big = BudgetTransactionCount.objects.filter(budget_id__in=visible).order_by("-total").first()
    budget = Budget.objects.select_related("owner").get(pk=big.budget_id)
    groups = BudgetGroupObjectPermission.objects.filter(content_object=budget).values("group_id")
    household = Household.objects.filter(group_id__in=groups).order_by("pk").first()
    return {"budget": budget, "owner": budget.owner, "household": household, "rows": big.total}


def import_body(subject: dict, rows: int, *, splits: bool, dry_run: bool) -> tuple[bytes, str]:
    """The multipart body of an import of bench/import_file.py's file, and its content type."""
    budget = subject["budget"]
    categories = list(Category.objects.filter(budget=budget).order_by("pk").values_list("name", flat=True))
    existing = [
        (date.isoformat(), format_amount(amount, budget.currency), kind, payee, description)
        for date, amount, kind, payee, description in Transaction.objects.filter(budget=budget)
        .order_by("-date", "-id")
        .values_list("date", "amount_minor", "kind", "payee", "description")[:100]
    ]
    members = []
    fields = {"budget": str(budget.pk), "create_categories": "true", "dry_run": str(dry_run).lower()}
    if splits:
        household = subject["household"]
        owner = subject["owner"].email
        others = (
            Membership.objects.filter(household=household)
            .exclude(user__email=owner)
            .order_by("user_id")
            .values_list("user__email", flat=True)
        )
        members = [owner, *others]
        fields["household"] = str(household.pk)
    return multipart(fields, import_csv(rows, categories=categories, existing=existing, members=members))


def cleanup(budget: Budget, above: int) -> None:
    """Deletes what a real run created: rows past ``above`` (their splits go with them) and
    the categories it created; then VACUUM (ANALYZE), so that each run starts from the same
    table."""
    with connection.cursor() as cursor:  # one statement each; the triggers keep the counters
        cursor.execute(
            f"DELETE FROM {Transaction._meta.db_table} WHERE budget_id = %s AND id > %s",  # noqa: S608
            [budget.pk, above],
        )
    Category.objects.filter(budget=budget, name__in=NEW_CATEGORIES).delete()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:  # not in a test
        with connection.cursor() as cursor:
            # ANALYZE too: VACUUM alone re-estimates the table's rows from the pages it scans
            # (709,448 of 1,000,000 after one make bench), which the planner and the walk's
            # guard (pagination.walk_of) then read.
            cursor.execute(f"VACUUM (ANALYZE) {Transaction._meta.db_table}")


class _Response:
    def __init__(self):
        self.status = None

    def __call__(self, status, headers, exc_info=None):
        self.status = int(status.split()[0])


def send(handler, token: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    environ = phases.environ_for("POST", path, token=token, body=body)
    environ["CONTENT_TYPE"] = content_type
    answer = _Response()
    response = handler(environ, answer)
    content = b"".join(response)
    response.close()
    return answer.status, content


class Command(BaseCommand):
    help = "Import (50,000 rows) and bulk (1,000 items) timings, in-process, on a seed_bench database."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=50_000)
        parser.add_argument("--items", type=int, default=1000)
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument(
            "--splits", action="store_true", help="One row in ten split (paid_by, split_with)."
        )
        parser.add_argument("--profile", help="Write one real import's cProfile statistics here.")
        parser.add_argument("--profile-bulk", help="Write one bulk request's cProfile statistics here.")
        parser.add_argument("--only", choices=["import", "dry-run", "bulk"], action="append")

    def handle(self, *args, rows, items, repeat, splits, profile, profile_bulk, only, **options):
        subject = bench_subject()
        token = token_pair_for(subject["owner"])["access"]
        handler = WSGIHandler()
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        only = set(only or ("import", "dry-run", "bulk"))
        results = {"budget": subject["budget"].pk, "budget_rows": subject["rows"], "rows": rows}
        try:
            if "import" in only or "dry-run" in only or profile:
                real, kind = import_body(subject, rows, splits=splits, dry_run=False)
                dry, dry_kind = import_body(subject, rows, splits=splits, dry_run=True)
                if "import" in only:
                    results["import_s"], results["import"] = self._measure(
                        handler, token, subject, IMPORT, real, kind, repeat, 201
                    )
                if "dry-run" in only:
                    results["dry_run_s"], results["dry_run"] = self._measure(
                        handler, token, subject, IMPORT, dry, dry_kind, repeat, 200
                    )
                if profile:
                    self._profiled(profile, handler, token, subject, IMPORT, real, kind)
            if "bulk" in only or profile_bulk:
                categories = list(
                    Category.objects.filter(budget=subject["budget"]).values_list("pk", flat=True)
                )
                body = json.dumps(
                    bulk_items(items, budget=subject["budget"].pk, categories=categories)
                ).encode()
                if "bulk" in only:
                    seconds, results["bulk"] = self._measure(
                        handler, token, subject, BULK, body, "application/json", repeat, 201
                    )
                    results["bulk_ms"] = [s * 1000 for s in seconds]
                if profile_bulk:
                    self._profiled(profile_bulk, handler, token, subject, BULK, body, "application/json")
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        self.stdout.write(json.dumps(results))

    def _measure(
        self, handler, token, subject, path, body, kind, repeat, expected
    ) -> tuple[list[float], dict]:
        """Seconds of each of ``repeat`` requests after a warm-up, and what the last answered."""
        budget = subject["budget"]
        seconds, answered = [], {}
        for _ in range(repeat + 1):  # the first warms the process
            above = Transaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            started = time.perf_counter()
            status, content = send(handler, token, path, body, kind)
            elapsed = time.perf_counter() - started
            cleanup(budget, above)
            if status != expected:
                raise CommandError(f"{path} answered {status}: {content[:500]!r}")
            seconds.append(elapsed)
            summary = json.loads(content)
            if isinstance(summary, dict):
                answered = {"created": summary["created"], "skipped": len(summary["skipped"])}
                self.stderr.write(
                    f"{path}: {elapsed:.3f} s, created {summary['created']:,}, "
                    f"skipped {len(summary['skipped']):,}, categories {summary['categories_created']}"
                )
            else:
                answered = {"created": len(summary)}
                self.stderr.write(f"{path}: {elapsed * 1000:.1f} ms, {len(summary)} items")
        return seconds[1:], answered

    def _profiled(self, out: str, handler, token, subject, path, body, kind) -> None:
        above = Transaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        send(handler, token, path, body, kind)  # warms the process
        cleanup(subject["budget"], above)
        above = Transaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            send(handler, token, path, body, kind)
        finally:
            profiler.disable()
            cleanup(subject["budget"], above)
        profiler.dump_stats(out)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        self.stdout.write(text.getvalue())
