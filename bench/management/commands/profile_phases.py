"""`manage.py profile_phases`: the phase table of docs/performance.md (issue 20) for the five
requests every client makes most — health, retrieve, create, the 50-row list and the 3-month
filter — as bench-recent on a seed_bench database (bench/phases.py says what each phase is).

    .venv/bin/python -m bench.profile --db postgres://postgres@127.0.0.1:5432/budget_bench_1m

bench.profile runs it with the bench's environment (debug off, throttles high, as
bench/gunicorn.py sets them; DEBUG would record every query). The creates it makes are deleted at the end.
"""

import json
import statistics
import time

from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries

from accounts.models import User
from accounts.services import token_pair_for
from bench import phases
from budgets.models import Budget, Category
from budgets.querysets import CHANGE
from transactions.models import Transaction

PAYEE = "profile_phases"


class Command(BaseCommand):
    help = "Per-phase time of the five common requests, in-process, on a seed_bench database."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--warmup", type=int, default=30)
        parser.add_argument("--user", default="bench-recent@bench.example")

    def handle(self, *args, requests, warmup, user, **options):
        person = User.objects.filter(email=user).first()
        if person is None:
            raise CommandError(f"No user {user}: run it on a seed_bench database.")
        token = token_pair_for(person)["access"]
        cases = self._cases(person)
        columns = {}
        phases.instrument()
        try:
            handler = WSGIHandler()
            for label, method, path, body in cases:
                columns[label] = self._measure(handler, token, method, path, body, requests, warmup)
        finally:
            Transaction.objects.filter(payee=PAYEE).delete()
            phases.uninstrument()
        self._print(columns, requests)

    def _cases(self, person) -> list[tuple]:
        budgets = Budget.objects.visible_to(person)
        editable = Budget.objects.visible_to(person, CHANGE).order_by("pk").first()
        row = Transaction.objects.filter(budget__in=budgets).order_by("-date", "-id").first()
        category = Category.objects.filter(budget__in=budgets).order_by("pk").first()
        create = json.dumps(
            {
                "budget": editable.pk,
                "kind": "expense",
                "amount": "12.30",
                "date": "2026-11-30",
                "payee": PAYEE,
            }
        ).encode()
        filtered = (
            f"limit=50&date_after=2026-01-01&date_before=2026-03-31&category={category.pk}&ordering=-amount"
        )
        return [
            ("health", "GET", "/api/health/", b""),
            ("retrieve", "GET", f"/api/v1/transactions/{row.pk}/", b""),
            ("create", "POST", "/api/v1/transactions/", create),
            ("list of 50", "GET", "/api/v1/transactions/?limit=50", b""),
            ("3-month filter", "GET", f"/api/v1/transactions/?{filtered}", b""),
        ]

    def _measure(self, handler, token, method, path, body, requests, warmup) -> dict:
        auth = None if path == "/api/health/" else token
        expected = 201 if method == "POST" else 200
        for _ in range(warmup):
            status = phases.call(handler, method, path, token=auth, body=body)
            if status != expected:
                raise CommandError(f"{method} {path} answered {status}, expected {expected}")
        phases.CLOCK.reset()
        reset_queries()
        walls = []
        for _ in range(requests):
            started = time.perf_counter()
            phases.call(handler, method, path, token=auth, body=body)
            walls.append(time.perf_counter() - started)
        totals = phases.CLOCK.reset()
        result = {name: seconds * 1000 / requests for name, seconds in totals.items()}
        result["(p50 wall)"] = statistics.median(walls) * 1000
        result["(mean wall)"] = statistics.fmean(walls) * 1000
        return result

    def _print(self, columns: dict, requests: int) -> None:
        names = sorted(
            {name for column in columns.values() for name in column if not name.startswith("(")},
            key=lambda name: -sum(column.get(name, 0) for column in columns.values()),
        )
        labels = list(columns)
        self.stdout.write(
            f"ms per request, mean of {requests}, in-process ({connection.vendor}); self time per phase\n"
        )
        self.stdout.write("| phase | " + " | ".join(labels) + " |")
        self.stdout.write("|---|" + "---:|" * len(labels))
        for name in [*names, "(mean wall)", "(p50 wall)"]:
            cells = " | ".join(f"{columns[label].get(name, 0):.2f}" for label in labels)
            self.stdout.write(f"| {name} | {cells} |")
