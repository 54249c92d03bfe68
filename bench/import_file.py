"""The import's and bulk's bench inputs (issue 16, item 5): a deterministic CSV file and a
deterministic bulk body, shared by `manage.py bench_import` (in-process) and bench/run.py
(through gunicorn).

The file is what a household exports from a bank and imports: rows over the year before the
data sets' last date, in the budget's categories (names in any case) and a few it lacks
(create_categories), one payee in nine, a description of its own per row (so that no two
generated rows are duplicates by chance), one cell in 500 that a spreadsheet would read as a
formula (neutralised, as export/ writes it), and two kinds of duplicates the import must
skip and report: the rows of ``existing`` (already in the budget) and one row in 100
repeated later in the file. With ``members`` (emails of a household's members), one row in
ten is split: paid by the first member, among all of them.
"""

import csv
import datetime
import io
import random

LAST_DAY = datetime.date(2026, 11, 1)  # seed_bench's TODAY
PAYEES = ("Supermarket", "Rail", "Bookshop", "Garage", "Landlord", "Power Co", "Cafe", "Pharmacy", "Bakery")
NEW_CATEGORIES = ("Imported A", "Imported B", "Imported C")
HEADER = ("date", "amount", "kind", "category", "payee", "description", "notes")


def import_csv(
    rows: int,
    *,
    categories: list[str],
    existing: list[tuple] = (),
    members: list[str] = (),
    seed: int = 2026,
) -> str:
    """``rows`` data rows. ``existing``: (date, amount text, kind, payee, description) of rows
    the budget holds, written as they are (duplicate_of_existing)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    names = [*categories, *(n.upper() for n in categories), *NEW_CATEGORIES, "", ""]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*HEADER, *(("paid_by", "split_with") if members else ())])
    lines: list[list[str]] = []
    fresh = rows - len(existing) - rows // 100
    for i in range(fresh):
        income = rng.random() < 0.08
        payee = rng.choice(PAYEES)
        if i % 500 == 0:
            payee = '\'=HYPERLINK("http://example.com")'  # neutralised; imports as =HYPERLINK(...)
        line = [
            (LAST_DAY - datetime.timedelta(days=rng.randint(0, 364))).isoformat(),
            f"{rng.randint(100, 50_000) / 100:.2f}",
            "income" if income else "expense",
            "" if income else rng.choice(names),
            payee,
            f"Bench import {seed}-{i}",
            "" if rng.random() < 0.9 else "checked",
        ]
        if members:
            line += [members[0], "; ".join(members)] if i % 10 == 0 else ["", ""]
        lines.append(line)
    for date, amount, kind, payee, description in existing:
        lines.append([date, amount, kind, "", payee, description, "", *(("", "") if members else ())])
    for _ in range(rows // 100):
        lines.append(list(lines[rng.randrange(fresh)]))  # duplicate_in_file
    writer.writerows(lines)
    return out.getvalue()


def bulk_items(count: int, *, budget: int, categories: list[int], seed: int = 2026) -> list[dict]:
    """``count`` items for bulk/, as POST transactions/ takes them."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    return [
        {
            "budget": budget,
            "category": rng.choice([*categories, None]),
            "kind": "expense",
            "amount": f"{rng.randint(100, 50_000) / 100:.2f}",
            "date": (LAST_DAY - datetime.timedelta(days=rng.randint(0, 364))).isoformat(),
            "payee": rng.choice(PAYEES),
            "description": f"Bench bulk {seed}-{i}",
        }
        for i in range(count)
    ]
