"""`python -m bench.imports --db postgres://.../budget_bench_1m [bench_import's options]`: runs
`manage.py bench_import` (the CSV import of 50,000 rows, its dry run, bulk/ of 1,000 items,
in-process) on a bench database with the environment gunicorn gets in `make bench` (debug
off, throttles out of the way)."""

import argparse
import subprocess
import sys

from bench.gunicorn import PYTHON, ROOT, env_setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="DATABASE_URL of a seed_bench database")
    args, rest = parser.parse_known_args()
    command = [PYTHON, "manage.py", "bench_import", *rest]
    sys.exit(subprocess.call(command, cwd=ROOT, env=env_setup(args.db)))  # noqa: S603 (our own command)


if __name__ == "__main__":
    main()
