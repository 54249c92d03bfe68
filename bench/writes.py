"""`make bench`'s write cases (issue 16, item 5): the CSV import of 50,000 rows, its dry run,
and bulk/ of 1,000 items, through gunicorn, on each data set.

The importer is the owner of bench-recent's largest budget (about 50,000 rows at 1M), and
imports into it the file of bench/import_file.py (5.2 MB at 50,000 rows: every kind of cell
the import reads, 600 duplicates to skip). Each request is timed from the request sent to the
answer read; what a real run or bulk/ created is deleted after it, untimed, straight in the
database (then VACUUM (ANALYZE)), so every run starts from the same table and the data set
is left as it was. Beside each, the database floor: the rows that run created, written again
in one COPY and committed straight through psycopg (no HTTP, no Django, no parsing), which is
what PostgreSQL alone takes to insert them with the table's indexes, triggers and foreign
keys.
"""

import http.client
import json
import time
import uuid

import psycopg

from bench.import_file import NEW_CATEGORIES, bulk_items, import_csv
from bench.measure import Client

IMPORT = "/api/v1/transactions/import/"
BULK = "/api/v1/transactions/bulk/"
IMPORT_ROWS = 50_000
BULK_ITEMS = 1000
IMPORT_RUNS = 3
BULK_RUNS = 15
IMPORT_TARGET_S = 3.0
BULK_TARGET_MS = 100.0
CASES = ("i. import 50,000 rows", "i. import 50,000 dry run", "i. bulk 1,000 items")
# The columns an import or bulk/ sets (the database gives id, version).
FLOOR_COLUMNS = (
    "budget_id, created_by_id, category_id, kind, amount_minor, date, payee, description, notes, "
    "created_at, updated_at"
)


def _dsn(database_url: str) -> str:
    return database_url.replace("postgres://", "postgresql://", 1)


def multipart(fields: dict[str, str], csv_text: str) -> tuple[bytes, str]:
    boundary = "bench-" + uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{csv_text}\r\n--{boundary}--\r\n"
    )
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


class WriteCases:
    """The write cases of one data set served on ``port``."""

    def __init__(self, port: int, database_url: str, budget: dict, owner_token: str):
        self.port, self.database_url = port, database_url
        self.budget, self.token = budget, owner_token
        api = Client(port, owner_token)
        categories = json.loads(api.request("GET", f"/api/v1/categories/?budget={budget['id']}&limit=100")[1])
        self.category_names = [c["name"] for c in categories["results"]]
        self.category_ids = [c["id"] for c in categories["results"]]
        page = json.loads(api.request("GET", f"/api/v1/transactions/?budget={budget['id']}&limit=100")[1])
        # The budget's newest rows, written into the file as they are: duplicate_of_existing.
        self.existing = [
            (t["date"], t["amount"], t["kind"], t["payee"], t["description"]) for t in page["results"]
        ]

    def import_body(self, *, dry_run: bool) -> tuple[bytes, str]:
        text = import_csv(IMPORT_ROWS, categories=self.category_names, existing=self.existing)
        fields = {
            "budget": str(self.budget["id"]),
            "create_categories": "true",
            "dry_run": str(dry_run).lower(),
        }
        return multipart(fields, text)

    def _post(self, path: str, body: bytes, content_type: str, expected: int) -> tuple[float, object]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn.connect()
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": content_type,
            "Accept": "application/json",
        }
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        seconds = time.perf_counter() - started
        conn.close()
        if response.status != expected:
            raise SystemExit(f"POST {path} -> {response.status}: {data[:500]!r}")
        return seconds, json.loads(data)

    def _newest_id(self) -> int:
        with psycopg.connect(_dsn(self.database_url), autocommit=True) as conn:
            return conn.execute("SELECT coalesce(max(id), 0) FROM transactions_transaction").fetchone()[0]

    def _cleanup(self, above: int, *, categories: bool = True) -> None:
        with psycopg.connect(_dsn(self.database_url), autocommit=True) as conn:
            conn.execute(
                "DELETE FROM transactions_transaction WHERE budget_id = %s AND id > %s",
                [self.budget["id"], above],
            )
            if categories:
                conn.execute(
                    "DELETE FROM budgets_category WHERE budget_id = %s AND name = ANY(%s)",
                    [self.budget["id"], list(NEW_CATEGORIES)],
                )
            conn.execute("VACUUM (ANALYZE) transactions_transaction")  # bench_import.cleanup says why

    def _rows_after(self, above: int) -> bytes:
        """The rows a request created, as COPY writes them (every column the import sets)."""
        with psycopg.connect(_dsn(self.database_url), autocommit=True) as conn, conn.cursor() as cursor:
            query = (
                f"COPY (SELECT {FLOOR_COLUMNS} FROM transactions_transaction "  # noqa: S608 - constants
                f"WHERE budget_id = {int(self.budget['id'])} AND id > {int(above)} ORDER BY id) TO STDOUT"
            )
            with cursor.copy(query) as copy:
                return b"".join(bytes(chunk) for chunk in copy)

    def _floor(self, rows: bytes) -> float:
        """The database's part: the same rows in one COPY and its COMMIT, straight through
        psycopg (no HTTP, no Django, no parsing): seconds."""
        above = self._newest_id()
        try:
            with psycopg.connect(_dsn(self.database_url)) as conn:
                started = time.perf_counter()
                with (
                    conn.cursor() as cursor,
                    cursor.copy(f"COPY transactions_transaction ({FLOOR_COLUMNS}) FROM STDIN") as copy,
                ):
                    copy.write(rows)
                conn.commit()
                return time.perf_counter() - started
        finally:
            self._cleanup(above, categories=False)

    def run(self, path: str, body: bytes, content_type: str, expected: int, runs: int) -> list[dict]:
        """``runs`` timed requests after one warm-up, each followed by the cleanup, and by the
        database floor of the rows it created."""
        samples = []
        for i in range(runs + 1):
            above = self._newest_id()
            try:
                seconds, answer = self._post(path, body, content_type, expected)
                created = self._rows_after(above) if i else b""
                self._cleanup(above, categories=False)
                # The same rows again, by COPY: the categories they name are still there.
                floor = self._floor(created) if created else None
            finally:
                self._cleanup(above)
            if i:
                summary = (
                    {"created": answer["created"], "skipped": len(answer["skipped"])}
                    if isinstance(answer, dict)
                    else {"created": len(answer)}
                )
                samples.append({"seconds": seconds, "floor_seconds": floor, **summary})
        return samples

    def measure(self, selected) -> list[dict]:
        results = []
        if selected(CASES[0]) or selected(CASES[1]):
            for name, dry_run, expected in ((CASES[0], False, 201), (CASES[1], True, 200)):
                if selected(name):
                    body, content_type = self.import_body(dry_run=dry_run)
                    samples = self.run(IMPORT, body, content_type, expected, IMPORT_RUNS)
                    results.append(_summary(name, samples, len(body), IMPORT_TARGET_S * 1000))
        if selected(CASES[2]):
            items = bulk_items(BULK_ITEMS, budget=self.budget["id"], categories=self.category_ids)
            samples = self.run(BULK, json.dumps(items).encode(), "application/json", 201, BULK_RUNS)
            results.append(_summary(CASES[2], samples, None, BULK_TARGET_MS))
        return results


def _summary(name: str, samples: list[dict], size: int | None, target_ms: float) -> dict:
    ms = sorted(s["seconds"] * 1000 for s in samples)
    floors = sorted(s["floor_seconds"] * 1000 for s in samples if s["floor_seconds"] is not None)
    return {
        "endpoint": name,
        "runs": samples,
        "bytes": size,
        "median_ms": ms[len(ms) // 2],
        "min_ms": ms[0],
        "max_ms": ms[-1],
        "floor_median_ms": floors[len(floors) // 2] if floors else None,
        "target_ms": target_ms,
    }


def format_write(dataset: str, row: dict) -> str:
    created = row["runs"][0]["created"]
    skipped = row["runs"][0].get("skipped")
    what = f"{created:,} created" + (f", {skipped:,} skipped" if skipped is not None else "")
    floor = row.get("floor_median_ms")
    beside = f"; database floor {floor:.1f} ms" if floor else ""
    return (
        f"{dataset:<4} {row['endpoint']:<27} median {row['median_ms']:9.1f} ms "
        f"(min {row['min_ms']:.1f}, max {row['max_ms']:.1f}, {len(row['runs'])} runs; {what}{beside}) "
        f"target <= {row['target_ms']:,.0f} ms"
    )
