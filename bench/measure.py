"""What the benchmark measures with: a keep-alive HTTP client, sequential latency and
throughput at a concurrency, percentiles, and the physical floor (SQL run directly)."""

import http.client
import json
import threading
import time
import uuid


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Client:
    def __init__(self, port: int, token: str | None = None, *, idempotency_keys: bool = False):
        """``idempotency_keys``: every POST carries a fresh Idempotency-Key (a first request,
        never a replay: what a careful client pays for safe retries)."""
        self.port, self.token, self.idempotency_keys = port, token, idempotency_keys
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, dict]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.idempotency_keys and method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, dict(response.getheaders())


def _timed(client, method: str, path: str, body, expected: int) -> float:
    started = time.perf_counter()
    status, data, _ = client.request(method, path, body)
    elapsed = (time.perf_counter() - started) * 1000
    if status != expected:
        raise SystemExit(f"{method} {path} -> {status}: {data[:300]!r}")
    return elapsed


def measure(
    make_client,
    method: str,
    path: str,
    body_for,
    *,
    requests: int,
    warmup: int,
    concurrency: int,
    paired_with=None,
) -> dict:
    """Sequential latencies, then throughput at ``concurrency``. ``paired_with``: a second
    client factory for the same request without what is being priced (an Idempotency-Key):
    its requests alternate with the measured ones in one sequence, so whatever the machine
    or the database does meanwhile (a table growing, autovacuum, a busy minute) weighs on
    both alike; their latencies come back as ``paired_latencies``."""
    client = make_client()
    paired = paired_with() if paired_with else None
    expected = 201 if method == "POST" else 200
    queries = None
    for i in range(warmup):
        status, data, headers = client.request(method, path, body_for(i))
        if status != expected:
            raise SystemExit(f"{method} {path} -> {status}: {data[:300]!r}")
        queries = headers.get("X-Query-Count")
        if paired:
            _timed(paired, method, path, body_for(i), expected)
    latencies, paired_latencies = [], []
    for i in range(requests):
        if paired:
            paired_latencies.append(_timed(paired, method, path, body_for(warmup + i), expected))
        latencies.append(_timed(client, method, path, body_for(warmup + i), expected))

    per_thread = max(1, requests // concurrency)
    errors: list[str] = []

    def worker(offset: int):
        own = make_client()
        for i in range(per_thread):
            status, data, _ = own.request(method, path, body_for(offset + i))
            if status != expected:
                errors.append(f"{status} {data[:200]!r}")

    threads = [threading.Thread(target=worker, args=(10_000 * (n + 1),)) for n in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{method} {path} under load: {errors[:3]}")
    return {
        "latencies": latencies,
        "rps": per_thread * concurrency / elapsed,
        "queries": int(queries) if queries else None,
        **({"paired_latencies": paired_latencies} if paired else {}),
    }


def summarise(rounds: list[dict]) -> dict:
    """Percentiles over every round's sequential samples; the median round's req/s."""
    latencies = [ms for r in rounds for ms in r["latencies"]]
    rates = sorted(r["rps"] for r in rounds if "rps" in r)
    summary = {
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99),
        "rps": rates[len(rates) // 2] if rates else None,
        "queries": rounds[0].get("queries"),
        "samples": len(latencies),
    }
    paired = [ms for r in rounds for ms in r.get("paired_latencies", ())]
    if paired:
        summary["paired_p50"] = percentile(paired, 50)
        summary["paired_p99"] = percentile(paired, 99)
    return summary


def physical_floor(database_url: str, statements: list[str], *, repeat: int) -> dict:
    """The floor view's SQL, run straight through psycopg and JSON-encoded."""
    import psycopg

    latencies = []
    with psycopg.connect(database_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute("SET jit = off")
        for i in range(repeat + 10):
            started = time.perf_counter()
            payload = []
            for sql in statements:
                rows = conn.execute(sql).fetchall()
                payload.append(rows)
            json.dumps(payload, default=str)
            if i >= 10:
                latencies.append((time.perf_counter() - started) * 1000)
    return {"latencies": latencies}
