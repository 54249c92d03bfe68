"""Two versions of the API side by side: `python -m bench.ab --base-root DIR --base-db URL --db URL`.

Serves an older checkout (``--base-root``, e.g. ``git archive <commit> | tar -x -C DIR``) on its
own database and this checkout on another, both seeded by seed_bench (the same deterministic
data set), each under gunicorn with 2 workers as in ``make bench``, and measures the same
requests on both in alternating rounds, so that a busy minute of the machine weighs on both
alike. Issue 18 measured a transaction create with the change log and delta sync against the
same create without them with it (docs/performance.md).
"""

import argparse
import json
import sys
from pathlib import Path

from bench.gunicorn import login, start_gunicorn, stop
from bench.measure import Client, measure, summarise

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "bench-recent@bench.example"
# make bench's advisers (seed_bench), with admin "view" grants on 500 and 2,000 budgets.
ADVISERS = {500: "bench-adviser-500@bench.example", 2000: "bench-adviser-2000@bench.example"}
ADVISER_LISTS = {
    "": "/api/v1/transactions/",
    " ordering=amount": "/api/v1/transactions/?ordering=amount",
    " offset=2000": "/api/v1/transactions/?offset=2000",
}


def _adviser_cases(port: int) -> list[tuple]:
    """The advisers' lists (issue 16): plain, by amount, and 2,000 rows deep."""
    cases = []
    for budgets, email in ADVISERS.items():
        token, _ = login(port, email)
        cases += [
            (f"adviser {budgets}{name}", token, "GET", path, None) for name, path in ADVISER_LISTS.items()
        ]
    return cases


def _cases(port: int) -> tuple[str, list[tuple]]:
    token, _ = login(port, EMAIL)
    api = Client(port, token)
    budgets = json.loads(api.request("GET", "/api/v1/budgets/?limit=500")[1])["results"]
    target = next(b["id"] for b in budgets if "change" in b["my_permissions"])
    # make bench's 3-month filter: one category of the largest budget, by amount.
    counts = {
        b["id"]: json.loads(api.request("GET", f"/api/v1/transactions/?budget={b['id']}&limit=1")[1])["count"]
        for b in budgets
    }
    big = max(counts, key=counts.get)
    category = json.loads(api.request("GET", f"/api/v1/categories/?budget={big}")[1])["results"][0]["id"]
    filtered = f"limit=50&date_after=2026-01-01&date_before=2026-03-31&category={category}&ordering=-amount"
    return token, [
        ("health", None, "GET", "/api/health/", None),
        ("retrieve", token, "GET", f"/api/v1/transactions/{_a_row(api)}/", None),
        ("list of 50", token, "GET", "/api/v1/transactions/?limit=50", None),
        ("list of 500", token, "GET", "/api/v1/transactions/?limit=500", None),
        ("3-month filter", token, "GET", f"/api/v1/transactions/?{filtered}", None),
        ("create transaction", token, "POST", "/api/v1/transactions/", target),
    ]


def _a_row(api) -> int:
    return json.loads(api.request("GET", "/api/v1/transactions/?limit=1")[1])["results"][0]["id"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-root", required=True, type=Path)
    parser.add_argument("--base-db", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, default=8891)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument(
        "--cases", default="", help="comma-separated parts of the case names to run (default: all)"
    )
    parser.add_argument("--advisers", action="store_true", help="add the advisers' lists (issue 16)")
    args = parser.parse_args()
    wanted = [part for part in args.cases.split(",") if part]

    def cases_on(port: int) -> list[tuple]:
        found = _cases(port)[1] + (_adviser_cases(port) if args.advisers else [])
        return [case for case in found if not wanted or any(part in case[0] for part in wanted)]

    servers = {"base": start_gunicorn(args.base_db, args.port, root=args.base_root)}
    try:
        servers["this"] = start_gunicorn(args.db, args.port + 1)
        ports = {"base": args.port, "this": args.port + 1}
        cases = {label: cases_on(port) for label, port in ports.items()}
        samples: dict[tuple[str, str], list[dict]] = {}
        for round_no in range(args.rounds):
            print(f"round {round_no + 1} of {args.rounds}", flush=True)
            for index in range(len(cases["base"])):
                for label in ("base", "this") if round_no % 2 == 0 else ("this", "base"):
                    name, token, method, path, target = cases[label][index]
                    base = round_no * 100_000

                    def body(i, target=target, base=base):
                        if target is None:
                            return None
                        return {
                            "budget": target,
                            "kind": "expense",
                            "amount": f"{1 + (base + i) % 90}.25",
                            "date": "2026-10-01",
                            "payee": "Bench",
                        }

                    row = measure(
                        lambda port=ports[label], token=token: Client(port, token),
                        method,
                        path,
                        body,
                        requests=args.requests,
                        warmup=args.warmup,
                        concurrency=1,
                    )
                    samples.setdefault((label, name), []).append(row)
    finally:
        for process in servers.values():
            stop(process)
    print(f"\n{'request':<30} {'base p50':>9} {'this p50':>9} {'ratio':>6}   (p90, p99 base / this)")
    for name, *_ in cases["base"]:
        base, this = summarise(samples[("base", name)]), summarise(samples[("this", name)])
        print(
            f"{name:<30} {base['p50']:9.2f} {this['p50']:9.2f} {this['p50'] / base['p50']:6.2f}   "
            f"({base['p90']:.2f} / {this['p90']:.2f}, {base['p99']:.2f} / {this['p99']:.2f})"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
