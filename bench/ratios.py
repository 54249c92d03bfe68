"""`make bench`'s list section (issue 16, docs/performance.md): every list case beside the
plain list of the same run (bench-recent's transactions/, "a. transactions (best-placed)"),
with the issue's targets: p50 at most 2x the plain list's, p99 at most 100 ms."""

# seed_bench's advisers (admin "view" grants on that many busy budgets) and the requests the
# issue's table names for them; the member of five households' plain list.
ADVISERS = (500, 2000)
ADVISER_QUERIES = (
    ("transactions", "limit=50"),
    ("ordering=amount", "ordering=amount"),
    ("amount_min=100", "amount_min=100"),
    # A selective bound: few rows in each budget reach it (docs/performance.md, eighth session).
    ("amount_min=499.90", "amount_min=499.90"),
    ("offset=2000", "offset=2000"),
    ("limit=500", "limit=500"),
    ("search=Rail", "search=Rail"),
)
MULTI_HOUSEHOLD_CASE = "h. 5 households transactions"
PLAIN = "a. transactions (best-placed)"
# bench-recent's filtered lists (the "g." cases) are list cases of the table too.
LIST_CASES = ("g. search Rail", "g. kind=income", "g. amount_min=", "h. ")
RATIO_TARGET, P99_TARGET = 2.0, 100.0


def print_list_ratios(results: list[dict]) -> dict:
    """Per data set: the plain list's p50, then each list case's p50, p99 and ratio."""
    report = {}
    for dataset in dict.fromkeys(row["dataset"] for row in results):
        rows = {row["endpoint"]: row for row in results if row["dataset"] == dataset}
        if PLAIN not in rows:
            continue
        cases = [name for name in rows if name.startswith(LIST_CASES)]
        if not cases:
            continue
        plain = rows[PLAIN]["api"]["p50"]
        print(f"\nList cases at {dataset}, against the plain list (bench-recent, p50 {plain:.2f} ms):")
        print(f"  {'case':<31} {'p50 ms':>7} {'p99 ms':>7} {'x plain':>7} {'q':>2}  targets (<=2x, p99<=100)")
        report[dataset] = {"plain_p50": plain, "cases": {}}
        for name in cases:
            api = rows[name]["api"]
            ratio = api["p50"] / plain
            met = ratio <= RATIO_TARGET and api["p99"] <= P99_TARGET
            print(
                f"  {name:<31} {api['p50']:7.2f} {api['p99']:7.2f} {ratio:7.2f} {api['queries'] or '-':>2}  "
                f"{'met' if met else 'not met'}"
            )
            report[dataset]["cases"][name] = {
                "p50": api["p50"],
                "p99": api["p99"],
                "x_plain": ratio,
                "met": met,
            }
    return report
