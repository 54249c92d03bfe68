"""The benchmark: `make bench` (see docs/performance.md).

For each data set (1,000,000 and 10,000 transactions, same user shape) it starts gunicorn
(2 workers) on that PostgreSQL database and measures, per endpoint, sequential latency
(p50/p90/p99 after warm-up) and throughput at concurrency 8, in rounds that alternate
between the two data sets endpoint by endpoint (so the growth ratio is not a comparison of
two different minutes of a busy machine), beside two floors measured in the same rounds:
the framework floor (a bare Django view, same rows via .values() and JsonResponse, same
gunicorn) and the physical floor (the floor view's SQL run directly through psycopg and
JSON-encoded). Then, on each data set, the CSV export's rows/s, and the CSV import of 50,000
rows, its dry run and bulk/ of 1,000 items, each beside its database floor (bench/writes.py;
--cases "i." runs only these). Prints a table and writes JSON to bench/results/.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.floors import print_floors
from bench.gunicorn import floor_sql, login, start_gunicorn, stop
from bench.measure import Client, measure, physical_floor, summarise
from bench.ratios import ADVISER_QUERIES, ADVISERS, MULTI_HOUSEHOLD_CASE, print_list_ratios
from bench.writes import CASES as WRITE_CASES
from bench.writes import WriteCases, format_write

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "bench.example"
SUMMARY_DATE = "2026-10-15"
# 36 months up to the data sets' last (seed_bench dates rows up to 2026-11-01).
REPORT_FROM, REPORT_TO = "2023-12", "2026-11"
EXPORT_ROUNDS = 3


def _capture_sql(floor_path: str) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import resolve

    path, _, query = floor_path.partition("?")
    request = RequestFactory().get(path + "?" + query)
    match = resolve(path)
    with CaptureQueriesContext(connection) as captured:
        response = match.func(request, *match.args, **match.kwargs)
    assert response.status_code == 200, response.content[:300]
    print(json.dumps([q["sql"] for q in captured.captured_queries]))


class Dataset:
    """One seeded database served by its own gunicorn, with the bench users' cases."""

    def __init__(self, label: str, database_url: str, port: int):
        self.label, self.database_url, self.port = label, database_url, port
        self.process = start_gunicorn(database_url, port)
        try:
            self.cases = self._cases()
        except BaseException:
            stop(self.process)
            raise
        self.floor_sql: dict[str, list[str]] = {}

    def _cases(self) -> list[tuple]:
        port = self.port
        recent_token, recent_id = login(port, f"bench-recent@{DOMAIN}")
        old_token, old_id = login(port, f"bench-old@{DOMAIN}")
        api = Client(port, recent_token)
        budgets = json.loads(api.request("GET", "/api/v1/budgets/?limit=500")[1])["results"]
        editable = [b for b in budgets if "change" in b["my_permissions"]]
        counts = {
            b["id"]: json.loads(api.request("GET", f"/api/v1/transactions/?budget={b['id']}&limit=1")[1])[
                "count"
            ]
            for b in budgets
        }
        big = max(counts, key=counts.get)
        category = json.loads(api.request("GET", f"/api/v1/categories/?budget={big}")[1])["results"][0]["id"]
        target = (editable or budgets)[0]["id"]
        old_api = Client(port, old_token)
        old_budgets = json.loads(old_api.request("GET", "/api/v1/budgets/")[1])["results"]
        old_category = json.loads(
            old_api.request("GET", f"/api/v1/categories/?budget={old_budgets[0]['id']}")[1]
        )["results"][0]["id"]
        print(
            f"[{self.label}] bench-recent sees {len(budgets)} budgets "
            f"(largest: {counts[big]:,} transactions); bench-old sees {len(old_budgets)}",
            flush=True,
        )
        # Three months, one category, by amount: this year's rows for bench-recent; for
        # bench-old, whose rows are all over two years old, a quarter of theirs.
        filtered = (
            f"limit=50&date_after=2026-01-01&date_before=2026-03-31&category={category}&ordering=-amount"
        )
        filtered_old = (
            f"limit=50&date_after=2024-01-01&date_before=2024-03-31&category={old_category}&ordering=-amount"
        )
        cases = [
            (
                "a. transactions (best-placed)",
                recent_token,
                "GET",
                "/api/v1/transactions/?limit=50",
                f"/bench/transactions/?user={recent_id}&limit=50",
            ),
            (
                "a. transactions (worst-placed)",
                old_token,
                "GET",
                "/api/v1/transactions/?limit=50",
                f"/bench/transactions/?user={old_id}&limit=50",
            ),
            (
                "b. filtered (best-placed)",
                recent_token,
                "GET",
                f"/api/v1/transactions/?{filtered}",
                f"/bench/transactions/?user={recent_id}&{filtered}",
            ),
            (
                "b. filtered (worst-placed)",
                old_token,
                "GET",
                f"/api/v1/transactions/?{filtered_old}",
                f"/bench/transactions/?user={old_id}&{filtered_old}",
            ),
            ("c. budgets", recent_token, "GET", "/api/v1/budgets/", f"/bench/budgets/?user={recent_id}"),
            (
                "d. budget summary",
                recent_token,
                "GET",
                f"/api/v1/budgets/{big}/summary/?date={SUMMARY_DATE}",
                f"/bench/budgets/{big}/summary/?user={recent_id}&date={SUMMARY_DATE}",
            ),
        ]
        # Shared costs: bench-recent's household holds the splits of the ~50,000-row budget.
        household = json.loads(api.request("GET", "/api/v1/households/")[1])["results"][0]["id"]
        for label, query in (
            ("g. household balances", "balances/"),
            ("g. household debts", "debts/?simplify=true"),
        ):
            cases.append(
                (
                    label,
                    recent_token,
                    "GET",
                    f"/api/v1/households/{household}/{query}",
                    f"/bench/households/{household}/balances/?user={recent_id}",
                )
            )
        # Issue 16's cases for search, the kind and amount filters and the report (bench-recent:
        # the table's "?search=Rail", "?amount_min=100 / ?kind=income" and "50,000-row budget,
        # report/monthly over 36 months").
        cases.append(
            (
                "g. search Rail (best-placed)",
                recent_token,
                "GET",
                "/api/v1/transactions/?search=Rail&limit=50",
                f"/bench/transactions/?user={recent_id}&search=Rail&limit=50",
            )
        )
        for name, query in (
            ("g. kind=income", "kind=income"),
            ("g. amount_min=100", "amount_min=100"),
            ("g. amount_min=499.90", "amount_min=499.90"),
        ):
            cases.append(
                (
                    f"{name} (best-placed)",
                    recent_token,
                    "GET",
                    f"/api/v1/transactions/?{query}&limit=50",
                    f"/bench/transactions/?user={recent_id}&{query}&limit=50",
                )
            )
        cases.append(
            (
                "g. report 36 months",
                recent_token,
                "GET",
                f"/api/v1/budgets/{big}/report/monthly/?from={REPORT_FROM}&to={REPORT_TO}",
                f"/bench/budgets/{big}/report/?user={recent_id}&from={REPORT_FROM}&to={REPORT_TO}",
            )
        )
        cases += self._issue16_cases(recent_token, recent_id)
        # Issue 18: delta sync with 100 changes, and the first page of the ~50,000-row budget's
        # history, beside the plain list (case a., best-placed) they are held to.
        since, synced = self._hundred_changes(api, editable, counts, target)
        if synced is not None:
            cases.append(
                (
                    "h. changes/ 100 changes",
                    recent_token,
                    "GET",
                    f"/api/v1/budgets/{synced}/changes/?last_knowledge_of_server={since}",
                    f"/bench/transactions/?user={recent_id}&limit=50",
                )
            )
        cases.append(
            (
                "h. history first page",
                recent_token,
                "GET",
                f"/api/v1/budgets/{big}/history/",
                f"/bench/transactions/?user={recent_id}&limit=50",
            )
        )
        self.export_path = f"/api/v1/transactions/export/?budget={big}"
        self.recent_token = recent_token
        self.big_budget = next(b for b in budgets if b["id"] == big)
        if self.label == "1M":
            page = json.loads(api.request("GET", "/api/v1/transactions/?limit=1")[1])
            row_id = page["results"][0]["id"]
            cases.append(("f. health", None, "GET", "/api/health/", "/bench/bare/", "no_physical"))
            cases.append(
                (
                    "f. retrieve",
                    recent_token,
                    "GET",
                    f"/api/v1/transactions/{row_id}/",
                    f"/bench/transactions/{row_id}/?user={recent_id}",
                )
            )
            cases.append(
                (
                    "e. create transaction",
                    recent_token,
                    "POST",
                    "/api/v1/transactions/",
                    f"/bench/transactions/create/?user={recent_id}",
                    target,
                )
            )
            cases.append(
                (
                    "e. create + Idempotency-Key",
                    recent_token,
                    "POST",
                    "/api/v1/transactions/",
                    f"/bench/transactions/create/?user={recent_id}",
                    target,
                    "idempotency_keys",
                )
            )
        return cases

    def _issue16_cases(self, recent_token: str, recent_id: int) -> list[tuple]:
        """Issue 16's list cases (bench/ratios.py): the two advisers' lists, each beside its
        framework floor, the list of the member of five households, and bench-recent's page
        of 500 (what the advisers' limit=500 costs for a member: 500 rows to serialise)."""
        cases = [
            (
                "h. recent limit=500",
                recent_token,
                "GET",
                "/api/v1/transactions/?limit=500",
                f"/bench/transactions/?user={recent_id}&limit=500",
            )
        ]
        for budgets in ADVISERS:
            found = login(self.port, f"bench-adviser-{budgets}@{DOMAIN}", required=False)
            if found is None:
                print(
                    f"[{self.label}] no bench-adviser-{budgets}: seeded before issue 16 "
                    "(drop the database and run make bench to seed it again)",
                    flush=True,
                )
                continue
            token, user_id = found
            for label, query in ADVISER_QUERIES:
                cases.append(
                    (
                        f"h. adviser {budgets} {label}",
                        token,
                        "GET",
                        f"/api/v1/transactions/?{query}",
                        f"/bench/transactions/?user={user_id}&{query}",
                    )
                )
        found = login(self.port, f"bench-households@{DOMAIN}", required=False)
        if found is not None:
            token, user_id = found
            cases.append(
                (
                    MULTI_HOUSEHOLD_CASE,
                    token,
                    "GET",
                    "/api/v1/transactions/?limit=50",
                    f"/bench/transactions/?user={user_id}&limit=50",
                )
            )
        return cases

    @staticmethod
    def _hundred_changes(api, editable: list[dict], counts: dict, target: int) -> tuple[int, int | None]:
        """Changes 100 transactions of bench-recent's largest editable budget (not the create
        case's, when there is another), one request each: (its knowledge before them, the
        budget), so that changes/ since that knowledge answers exactly those 100 rows. One
        more row is written first: a budget no write has touched since the history migration
        is at knowledge 0, and changes/ since 0 is the whole budget, not 100 changes."""
        choices = sorted((b["id"] for b in editable), key=lambda pk: (pk == target, -counts.get(pk, 0)))
        if not choices or counts.get(choices[0], 0) < 101:
            return 0, None
        budget = choices[0]
        page = json.loads(api.request("GET", f"/api/v1/transactions/?budget={budget}&limit=101")[1])
        since = None
        for n, row in enumerate(page["results"]):
            status, data, headers = api.request(
                "PATCH", f"/api/v1/transactions/{row['id']}/", {"notes": f"bench {time.time_ns()}"}
            )
            if status != 200:
                raise SystemExit(f"PATCH for the changes case -> {status}: {data[:300]!r}")
            if n == 0:
                known = dict(pair.split("=") for pair in headers["Server-Knowledge"].split(", "))
                since = int(known[str(budget)])
        return since, budget

    def measure_case(self, case: tuple, args, round_no: int) -> dict:
        _name, token, method, path, floor_path, *rest = case
        port = self.port
        keyed = "idempotency_keys" in rest
        if method == "POST":
            target = rest[0]
            base = round_no * 100_000  # distinct amounts per round

            # Both write amounts of at most 90.25: the rows stay, and a larger amount would
            # change what the later rounds' amount_min=499.90 cases find (the floor's
            # 125 + i once put 288 rows above 500.00 into bench-recent's budget mid-run).
            def api_body(i):
                return {
                    "budget": target,
                    "kind": "expense",
                    "amount": f"{1 + (base + i) % 90}.25",
                    "date": "2026-10-01",
                    "payee": "Bench",
                }

            def floor_body(i):
                return {
                    "budget": target,
                    "kind": "expense",
                    "amount_minor": (1 + (base + i) % 90) * 100 + 25,
                    "date": "2026-10-01",
                    "payee": "Bench",
                }
        else:
            api_body = floor_body = lambda i: None
        common = {"requests": args.requests, "warmup": args.warmup, "concurrency": args.concurrency}
        # A keyed POST alternates with the same POST without a key (issue 15 prices the key).
        paired = (lambda: Client(port, token)) if keyed else None
        row = {
            "api": measure(
                lambda: Client(port, token, idempotency_keys=keyed),
                method,
                path,
                api_body,
                paired_with=paired,
                **common,
            ),
            "framework": measure(lambda: Client(port), method, floor_path, floor_body, **common),
        }
        if method == "GET" and "no_physical" not in rest:
            if floor_path not in self.floor_sql:
                self.floor_sql[floor_path] = floor_sql(self.database_url, floor_path)
            statements = self.floor_sql[floor_path]
            row["physical"] = physical_floor(self.database_url, statements, repeat=args.requests)
            row["physical"]["queries"] = len(statements)
        return row

    def write_cases(self) -> WriteCases:
        """Issue 16's import and bulk cases: the owner of bench-recent's largest budget writes to it."""
        token, _ = login(self.port, self.big_budget["owner"]["email"])
        return WriteCases(self.port, self.database_url, self.big_budget, token)

    def close(self) -> None:
        stop(self.process)


def run_rounds(datasets: list[Dataset], args) -> list[dict]:
    """Each endpoint on each data set in turn, ``args.rounds`` times: the two data sets are
    measured minutes apart at most, so the growth ratio compares like with like."""
    names = [case[0] for case in datasets[0].cases if _selected(case[0], args)]
    samples: dict[tuple[str, str], list[dict]] = {}
    for round_no in range(args.rounds):
        print(f"round {round_no + 1} of {args.rounds}", flush=True)
        for name in names:
            for dataset in datasets:
                case = next((c for c in dataset.cases if c[0] == name), None)
                if case is not None:
                    samples.setdefault((dataset.label, name), []).append(
                        dataset.measure_case(case, args, round_no)
                    )
    results = []
    for dataset in datasets:
        for name in names:
            rounds = samples.get((dataset.label, name))
            if not rounds:
                continue
            row = {"dataset": dataset.label, "endpoint": name}
            for part in ("api", "framework", "physical"):
                if part in rounds[0]:
                    row[part] = summarise([r[part] for r in rounds])
            results.append(row)
    return results


def _selected(name: str, args) -> bool:
    return not args.cases or any(part in name for part in args.cases.split(","))


def measure_writes(datasets: list[Dataset], args) -> list[dict]:
    """The import of 50,000 rows, its dry run and bulk/ of 1,000 items on each data set
    (bench/writes.py), after the read cases: each run's rows are deleted after it."""
    results = []
    if not any(_selected(name, args) for name in WRITE_CASES):
        return results
    for dataset in datasets:
        print(f"[{dataset.label}] import and bulk", flush=True)
        for row in dataset.write_cases().measure(lambda name: _selected(name, args)):
            results.append({"dataset": dataset.label, **row})
    return results


def measure_exports(datasets: list[Dataset]) -> list[dict]:
    """The CSV export of bench-recent's largest budget (50,000 rows at 1M), EXPORT_ROUNDS
    times per data set: rows per second from request to last byte (bench/export.py)."""
    from bench.export import export_once

    results = []
    for dataset in datasets:

        def export(dataset=dataset):
            return export_once(dataset.port, dataset.recent_token, dataset.export_path)

        export()  # warms the worker
        runs = [export() for _ in range(EXPORT_ROUNDS)]
        rates = sorted(r["rows_per_s"] for r in runs)
        results.append(
            {
                "dataset": dataset.label,
                "rows": runs[0]["rows"],
                "bytes": runs[0]["bytes"],
                "median_rows_per_s": rates[len(rates) // 2],
                "runs": runs,
            }
        )
    return results


HEADER = (
    f"{'data':<4} {'endpoint':<31} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'req/s':>7} {'q':>2} "
    f"{'fw p50':>7} {'fw r/s':>7} {'x fw':>5} {'sql p50':>7} {'x sql':>6}"
)


def format_row(row: dict) -> str:
    api, fw, phys = row["api"], row["framework"], row.get("physical")
    phys_p50 = f"{phys['p50']:7.2f}" if phys else "      -"
    phys_ratio = f"{api['p50'] / phys['p50']:6.1f}" if phys else "     -"
    return (
        f"{row['dataset']:<4} {row['endpoint']:<31} {api['p50']:7.2f} {api['p90']:7.2f} {api['p99']:7.2f} "
        f"{api['rps']:7.0f} {api['queries'] or '-':>2} {fw['p50']:7.2f} {fw['rps']:7.0f} "
        f"{api['p50'] / fw['p50']:5.2f} {phys_p50} {phys_ratio}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-1m", default="postgres://postgres@127.0.0.1:5432/budget_bench_1m")
    parser.add_argument("--db-10k", default="postgres://postgres@127.0.0.1:5432/budget_bench_10k")
    parser.add_argument("--port", type=int, default=8871)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100, help="sequential requests per round")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--capture-sql", help=argparse.SUPPRESS)
    parser.add_argument(
        "--cases", default="", help="only the cases whose name holds one of these comma-separated parts"
    )
    parser.add_argument("--no-export", action="store_true", help="skip the export's rows/s")
    parser.add_argument("--no-writes", action="store_true", help="skip the import and bulk cases")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    if args.capture_sql:
        _capture_sql(args.capture_sql)
        return
    datasets = []
    try:
        datasets.append(Dataset("1M", args.db_1m, args.port))
        if args.db_10k:  # an empty --db-10k measures the 1M data set alone
            datasets.append(Dataset("10k", args.db_10k, args.port + 1))
        results = run_rounds(datasets, args)
        exports = [] if args.no_export else measure_exports(datasets)
        writes = [] if args.no_writes else measure_writes(datasets, args)
    finally:
        for dataset in datasets:
            dataset.close()
    print()
    print(HEADER)
    for row in results:
        print(format_row(row))

    print("\nGrowth, p50 at 1M / p50 at 10k transactions:")
    small = {r["endpoint"]: r for r in results if r["dataset"] == "10k"}
    growth = {}
    for row in results:
        if row["dataset"] == "1M" and row["endpoint"] in small:
            factor = row["api"]["p50"] / small[row["endpoint"]]["api"]["p50"]
            growth[row["endpoint"]] = factor
            print(f"  {row['endpoint']:<31} {factor:5.2f}x")

    floors = print_floors(results)
    list_ratios = print_list_ratios(results)

    for export in exports:
        print(
            f"\nExport ({export['dataset']}): {export['rows']:,} rows, {export['bytes'] / 1e6:.1f} MB, "
            f"median {export['median_rows_per_s']:,.0f} rows/s over {EXPORT_ROUNDS} (target >= 150,000)"
        )

    if writes:
        print("\nImport and bulk (issue 16, item 5), request sent to answer read:")
        for row in writes:
            print("  " + format_write(row["dataset"], row))

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    machine = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "database": urlsplit(args.db_1m).path,
        "rounds": args.rounds,
        "requests_per_round": args.requests,
        "load_average": os.getloadavg(),
    }
    (out / f"bench-{stamp}.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "results": results,
                "growth": growth,
                "floors": floors,
                "list_ratios": list_ratios,
                "exports": exports,
                "writes": writes,
            },
            indent=2,
        )
    )
    print(f"\nJSON: bench/results/bench-{stamp}.json")


if __name__ == "__main__":
    main()
