"""`python -m bench.profile --db postgres://.../budget_bench_1m [--requests N]`: runs
`manage.py profile_phases` on a bench database with the environment gunicorn gets in
`make bench` (debug off, throttles out of the way), so the phases are those of the bench."""

import argparse
import subprocess
import sys

from bench.gunicorn import PYTHON, ROOT, env_setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="DATABASE_URL of a seed_bench database")
    parser.add_argument("--requests", default="300")
    args = parser.parse_args()
    command = [PYTHON, "manage.py", "profile_phases", "--requests", args.requests]
    sys.exit(subprocess.call(command, cwd=ROOT, env=env_setup(args.db)))  # noqa: S603 (our own command)


if __name__ == "__main__":
    main()
