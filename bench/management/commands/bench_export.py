"""`manage.py bench_export`: the CSV export's rows per second and the process's memory, on a
seed_bench database (issue 16, item 4; docs/performance.md).

    .venv/bin/python -m bench.export --db postgres://postgres@127.0.0.1:5432/budget_bench_1m
    .venv/bin/python -m bench.export --db ... --all      # every row of the data set

Each export runs in-process through Django's WSGI handler, middleware and authentication
included, no HTTP: what a worker does for the request, the socket left out. Without --all,
bench-recent exports its 50,000-row budget (``?budget=<id>``) --repeat times. With --all, a
user made for the run (in a transaction rolled back at the end: the database is left as it
was) is granted view on every budget and exports all of them once. Memory: VmHWM (the
process's peak resident set) before the measured exports and after, from /proc/self/status;
run one mode per process so that the peak is that mode's.
"""

import json
import time

from django.contrib.auth.hashers import make_password
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction

from accounts.models import User
from accounts.services import token_pair_for
from bench import phases
from bench.management.commands.seed_bench import BENCH_PASSWORD as PASSWORD
from budgets.models import Budget, BudgetUserObjectPermission
from budgets.shares import VIEW_CODENAME, codename_id
from transactions.models import BudgetTransactionCount

EXPORT = "/api/v1/transactions/export/"
ALL_USER = "bench-export-all@bench.example"


def memory_kib() -> dict[str, int]:
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return {name: int(value.split()[0]) for name, value in fields.items()}


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Export rows/s and peak memory, in-process, on a seed_bench database."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Every row of the data set, once.")
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--user", default="bench-recent@bench.example")
        parser.add_argument(
            "--grant-all", action="store_true", help=f"Only create {ALL_USER}, who sees every budget."
        )
        parser.add_argument("--revoke-all", action="store_true", help=f"Only delete {ALL_USER}.")

    def handle(self, *args, all, repeat, user, grant_all, revoke_all, **options):
        if grant_all:
            self._all_user()
            return
        if revoke_all:
            User.objects.filter(email=ALL_USER).delete()
            return
        handler = WSGIHandler()
        # One connection throughout, as a worker keeps it (CONN_MAX_AGE): the start and end
        # of each request would otherwise close it, and with it the transaction --all runs in.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            if all:
                self._export_all(handler)
            else:
                self._export_largest(handler, user, repeat)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    def _export_largest(self, handler, user: str, repeat: int) -> None:
        person = User.objects.filter(email=user).first()
        if person is None:
            raise CommandError(f"No user {user}: run it on a seed_bench database.")
        visible = Budget.objects.visible_pks(person)
        big = BudgetTransactionCount.objects.filter(budget_id__in=visible).order_by("-total").first()
        path = f"{EXPORT}?budget={big.budget_id}"
        self._run(handler, person, path, expected=big.total, repeat=repeat, warmup=1)

    def _export_all(self, handler) -> None:
        try:
            with transaction.atomic():
                person = self._all_user()
                total = sum(BudgetTransactionCount.objects.values_list("total", flat=True))
                self._run(handler, person, EXPORT, expected=total, repeat=1, warmup=0)
                raise _Rollback
        except _Rollback:
            pass

    @transaction.atomic
    def _all_user(self) -> User:
        """A user with view on every budget of the data set (the bench's password)."""
        if User.objects.filter(email=ALL_USER).exists():
            raise CommandError(f"{ALL_USER} exists: run --revoke-all first.")
        person = User.objects.create(email=ALL_USER, first_name="Export", password=make_password(PASSWORD))
        view = codename_id(VIEW_CODENAME)
        BudgetUserObjectPermission.objects.bulk_create(
            (
                BudgetUserObjectPermission(content_object_id=pk, user=person, permission_id=view)
                for pk in Budget.objects.values_list("pk", flat=True).iterator()
            ),
            batch_size=5000,
        )
        return person

    def _run(self, handler, person, path, *, expected: int, repeat: int, warmup: int) -> None:
        token = token_pair_for(person)["access"]
        for _ in range(warmup):
            self._export(handler, token, path)
        before = memory_kib()
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            rows, size = self._export(handler, token, path)
            seconds = time.perf_counter() - started
            if rows != expected:
                raise CommandError(f"exported {rows:,} rows, expected {expected:,}")
            runs.append({"rows": rows, "bytes": size, "seconds": seconds, "rows_per_s": rows / seconds})
        after = memory_kib()
        best = max(r["rows_per_s"] for r in runs)
        median = sorted(r["rows_per_s"] for r in runs)[len(runs) // 2]
        self.stdout.write(
            f"{path}: {runs[0]['rows']:,} rows, {runs[0]['bytes'] / 1e6:.1f} MB; "
            f"median {median:,.0f} rows/s, best {best:,.0f} rows/s over {repeat}; "
            f"peak RSS {before['VmHWM'] / 1024:.0f} MiB before, {after['VmHWM'] / 1024:.0f} MiB after"
        )
        detail = {"path": path, "runs": runs, "memory_before": before, "memory_after": after}
        self.stdout.write(json.dumps(detail))

    def _export(self, handler, token: str, path: str) -> tuple[int, int]:
        """(data rows, bytes) of one export, its body read chunk by chunk and dropped."""
        environ = phases.environ_for("GET", path, token=token)
        status = []
        response = handler(environ, lambda code, headers, exc_info=None: status.append(int(code.split()[0])))
        lines = size = 0
        for chunk in response:
            size += len(chunk)
            lines += chunk.count(b"\r\n")
        response.close()
        if status != [200]:
            raise CommandError(f"export answered {status}")
        return lines - 1, size
