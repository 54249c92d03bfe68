"""The server under test: gunicorn on one bench database, its environment, a login, and the
framework floor's SQL captured from a fresh process."""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import Client

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "bench-password-2026"


def env_setup(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="server.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=env.get("JWT_SIGNING_KEY") or secrets.token_urlsafe(50),
        JWT_ACCESS_MINUTES="240",
        THROTTLE_RATE_USER="10000000/min",
        THROTTLE_RATE_ANON="10000000/min",
        THROTTLE_RATE_AUTH="1000/min",
        BENCH_ENDPOINTS="1",
        LOG_LEVEL="WARNING",
    )
    return env


def start_gunicorn(database_url: str, port: int, *, root: Path = ROOT) -> subprocess.Popen:
    """gunicorn (2 workers) serving the checkout at ``root`` (bench.ab serves an older one)."""
    env = env_setup(database_url)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            PYTHON,
            "-m",
            "gunicorn",
            "server.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            status, _, _ = Client(port).request("GET", "/api/health/")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise SystemExit(f"gunicorn on {root} did not come up")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def login(port: int, email: str, *, required: bool = True) -> tuple[str, int] | None:
    """(access token, user id); None for an unknown user when not ``required`` (a data set
    seeded before that user was added)."""
    client = Client(port)
    status, data, _ = client.request("POST", "/api/v1/auth/token/", {"email": email, "password": PASSWORD})
    if status != 200:
        if not required and status in (400, 401):
            return None
        raise SystemExit(f"login {email}: {status} {data[:200]!r}")
    token = json.loads(data)["access"]
    me = Client(port, token).request("GET", "/api/v1/auth/me/")
    return token, json.loads(me[1])["id"]


def floor_sql(database_url: str, floor_path: str) -> list[str]:
    """The framework-floor view's SQL, captured by running it once in a fresh process."""
    output = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [PYTHON, "-m", "bench.run", "--capture-sql", floor_path],
        cwd=ROOT,
        env=env_setup(database_url),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)
