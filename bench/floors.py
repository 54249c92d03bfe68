"""`make bench`'s floors section (issue 20, docs/performance.md)."""

# The floors section (issue 20): the five requests every client makes most, at 1M, each as a
# ratio to a bare Django view (JsonResponse, no DRF, no auth: the framework's own cost) and to
# /api/health/ of the same run, beside the ratio to health the issue asks for.
FLOOR_CASES = (
    ("health", "f. health", None),
    ("retrieve", "f. retrieve", 2.5),
    ("create", "e. create transaction", 3.0),
    ("list of 50", "a. transactions (best-placed)", 4.0),
    ("3-month filter", "b. filtered (best-placed)", 5.0),
)


def print_floors(results: list[dict]) -> dict:
    by_name = {row["endpoint"]: row for row in results if row["dataset"] == "1M"}
    if "f. health" not in by_name:
        return {}
    bare = by_name["f. health"]["framework"]["p50"]
    health = by_name["f. health"]["api"]["p50"]
    print(f"\nFloors at 1M: p50 of a bare Django view {bare:.2f} ms, of /api/health/ {health:.2f} ms")
    print(f"  {'request':<15} {'p50 ms':>7} {'x bare':>7} {'x health':>9} {'target':>7}")
    floors = {"bare_p50": bare, "health_p50": health, "requests": {}}
    for label, endpoint, target in FLOOR_CASES:
        if endpoint not in by_name:
            continue
        p50 = by_name[endpoint]["api"]["p50"]
        wanted = f"<={target:g}x" if target else "-"
        print(f"  {label:<15} {p50:7.2f} {p50 / bare:7.2f} {p50 / health:9.2f} {wanted:>7}")
        floors["requests"][label] = {
            "p50": p50,
            "x_bare": p50 / bare,
            "x_health": p50 / health,
            "target": target,
        }
    keyed = by_name.get("e. create + Idempotency-Key")
    if keyed and "paired_p50" in keyed["api"]:
        with_key, without = keyed["api"]["p50"], keyed["api"]["paired_p50"]
        cost = with_key - without
        print(
            f"  Idempotency-Key: create p50 {with_key:.2f} ms with a fresh key, {without:.2f} without,"
            f" alternating in one sequence: +{cost:.2f} ms (issue 15: <= 2 ms)"
        )
        floors["idempotency_key"] = {"p50_keyed": with_key, "p50_without": without, "cost": cost}
    return floors
