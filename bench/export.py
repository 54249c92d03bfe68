"""The CSV export through gunicorn, as `make bench` serves it (issue 16, item 4):

    .venv/bin/python -m bench.export --db postgres://postgres@127.0.0.1:5432/budget_bench_1m
    .venv/bin/python -m bench.export --db ... --all        # every row of the data set, once
    .venv/bin/python -m bench.export --db ... --in-process # manage.py bench_export: no HTTP

bench-recent exports their largest budget (50,000 rows at 1M) --repeat times; with --all, a
user made for the run and deleted after it (``manage.py bench_export --grant-all``) who
sees every budget exports all of them. One client reads the body in 64 KiB pieces and
drops them. Rows/s is rows / (request sent -> last byte read). Memory is the peak resident
set (VmHWM, /proc/<pid>/status) of each gunicorn worker, read before the first export and
after the last: the worker that served them is the one whose peak moved.
"""

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.gunicorn import PYTHON, ROOT, env_setup, login, start_gunicorn, stop
from bench.measure import Client

EXPORT = "/api/v1/transactions/export/"
LIST = "/api/v1/transactions/"
ALL_USER = "bench-export-all@bench.example"


def workers_peak_kib(master_pid: int) -> dict[int, int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    peaks = {}
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        line = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        peaks[int(pid)] = int(line.split()[1])
    return peaks


def export_once(port: int, token: str, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"GET {path} -> {response.status}: {response.read()[:300]!r}")
    size = lines = 0
    tail = b""
    while piece := response.read(65536):
        size += len(piece)
        lines += (tail + piece[:1]).count(b"\r\n") + piece.count(b"\r\n")
        tail = piece[-1:]
    seconds = time.perf_counter() - started
    conn.close()
    rows = lines - 1  # the header; the bench data has no line break inside a cell
    return {"rows": rows, "bytes": size, "seconds": seconds, "rows_per_s": rows / seconds}


def manage(database_url: str, *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [PYTHON, "manage.py", "bench_export", *args], cwd=ROOT, env=env_setup(database_url), check=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="DATABASE_URL of a seed_bench database")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--all", action="store_true", help="every row of the data set, once")
    parser.add_argument("--in-process", action="store_true", help="manage.py bench_export instead")
    parser.add_argument("--port", type=int, default=8891)
    args = parser.parse_args()
    if args.in_process:
        extra = ["--all"] if args.all else []
        manage(args.db, "--repeat", str(args.repeat), *extra)
        return
    if args.all:
        manage(args.db, "--grant-all")
    process = None
    try:
        process = start_gunicorn(args.db, args.port)
        email = ALL_USER if args.all else "bench-recent@bench.example"
        token, _ = login(args.port, email)
        if args.all:
            path, repeat = EXPORT, 1
        else:
            budgets = json.loads(Client(args.port, token).request("GET", "/api/v1/budgets/?limit=500")[1])
            api = Client(args.port, token)
            counts = {
                b["id"]: json.loads(api.request("GET", f"{LIST}?budget={b['id']}&limit=1")[1])["count"]
                for b in budgets["results"]
            }
            path, repeat = f"{EXPORT}?budget={max(counts, key=counts.get)}", args.repeat
            export_once(args.port, token, path)  # warm-up
        before = workers_peak_kib(process.pid)
        runs = [export_once(args.port, token, path) for _ in range(repeat)]
        after = workers_peak_kib(process.pid)
    finally:
        if process is not None:
            stop(process)
        if args.all:
            manage(args.db, "--revoke-all")
    rates = [r["rows_per_s"] for r in runs]
    seconds = statistics.median(r["seconds"] for r in runs)
    grown = {pid: (before.get(pid, 0), peak) for pid, peak in after.items()}
    print(
        f"{path}: {runs[0]['rows']:,} rows, {runs[0]['bytes'] / 1e6:.1f} MB; "
        f"median {statistics.median(rates):,.0f} rows/s ({seconds:.3f} s), "
        f"best {max(rates):,.0f} over {repeat}; workers' peak RSS (MiB) before -> after: "
        + ", ".join(f"{b / 1024:.0f} -> {a / 1024:.0f}" for b, a in grown.values())
    )
    print(json.dumps({"path": path, "runs": runs, "workers_peak_kib": grown}))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
