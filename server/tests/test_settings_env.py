"""Settings come from the environment; a bad value stops start-up naming the variable.

Most cases execute server/settings.py afresh in this process with a controlled
environment (monkeypatch restores it); a few run manage.py in a subprocess, as an
operator would.
"""

import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from server import settings as loaded_settings
from server.env import load_dotenv

REPO = Path(loaded_settings.BASE_DIR)
SETTINGS_FILE = REPO / "server" / "settings.py"
ENV_EXAMPLE = REPO / ".env.example"

GOOD_SECRET = "s3cret-" + "k" * 20 + "-0123456789abcdefghijklmnopqrstuvwxyz"
GOOD_JWT_KEY = "jwt-key-0123456789abcdefghijklmnopqrstuvwxyz"


def example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def variables_read_by_settings() -> set[str]:
    return set(re.findall(r"""\benv_[a-z_]+\(\s*["']([A-Z0-9_]+)["']""", SETTINGS_FILE.read_text()))


@pytest.fixture
def load(monkeypatch):
    """Executes server/settings.py with exactly the given variables set (plus good keys)."""

    def run(**env):
        for name in variables_read_by_settings() | set(example_values()):
            monkeypatch.delenv(name, raising=False)
        for name, value in {"DJANGO_SECRET_KEY": GOOD_SECRET, "JWT_SIGNING_KEY": GOOD_JWT_KEY, **env}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return run


# --- .env.example ------------------------------------------------------------


def test_env_example_documents_every_variable_the_settings_read():
    assert set(example_values()) == variables_read_by_settings()


def test_env_example_has_one_comment_line_with_the_default_above_each_variable():
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            comment = lines[index - 1]
            assert comment.startswith("# ") and "Default" in comment, (line, comment)


def test_env_example_values_start_the_app_in_debug(load):
    settings = load(**{**example_values(), "DJANGO_DEBUG": "1"})
    assert settings.DEBUG is True
    assert settings.ALLOWED_HOSTS == ["127.0.0.1", "localhost"]


def test_env_example_values_without_keys_refuse_to_start_with_debug_off(load):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        load(**example_values())


# --- defaults ----------------------------------------------------------------


def test_defaults(load):
    settings = load()
    assert settings.DEBUG is False
    assert settings.ALLOWED_HOSTS == ["127.0.0.1", "localhost"]
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.DATABASES["default"]["NAME"] == str(REPO / "db.sqlite3")
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert settings.CORS_ALLOWED_ORIGINS == []
    assert settings.CSRF_TRUSTED_ORIGINS == []
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "anon": "100/min",
        "user": "1000/min",
        "auth": "10/min",
        "email": "5/hour",
    }
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
    assert settings.DEFAULT_FROM_EMAIL == "Household Budget <no-reply@localhost>"
    assert settings.PUBLIC_BASE_URL == "http://127.0.0.1:8000"
    assert settings.EMAIL_IN_BACKGROUND is True
    assert settings.EMAIL_VERIFICATION_TTL_HOURS == 48
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    assert (settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_LIMIT_PER_IP) == (5, 50)
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() == 5 * 60
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].days == 7
    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.SESSION_COOKIE_SECURE is False
    assert settings.SECURE_HSTS_SECONDS == 0
    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert settings.LOGGING["root"]["level"] == "INFO"


# --- keys --------------------------------------------------------------------


def test_secret_key_is_required_with_debug_off(load):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is required"):
        load(DJANGO_SECRET_KEY=None)


def test_debug_alone_gets_a_dev_secret_and_signs_jwts_with_it(load):
    settings = load(DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None, JWT_SIGNING_KEY=None)
    assert settings.SECRET_KEY.startswith("dev-only-")
    assert settings.JWT_SIGNING_KEY == settings.SECRET_KEY
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == settings.SECRET_KEY


def test_jwt_signing_key_is_required_with_debug_off(load):
    with pytest.raises(ImproperlyConfigured, match="JWT_SIGNING_KEY is required"):
        load(JWT_SIGNING_KEY=None)


def test_with_debug_off_both_keys_are_used_as_given(load):
    settings = load()
    assert settings.SECRET_KEY == GOOD_SECRET
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == GOOD_JWT_KEY


def test_jwt_signing_key_must_differ_from_the_secret_with_debug_off(load):
    with pytest.raises(ImproperlyConfigured, match="JWT_SIGNING_KEY must differ"):
        load(JWT_SIGNING_KEY=GOOD_SECRET)


def test_the_published_dev_secret_is_refused_with_debug_off(load):
    dev_secret = load(DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None).SECRET_KEY
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is the published development key"):
        load(DJANGO_SECRET_KEY=dev_secret)


# --- parsed values -----------------------------------------------------------


def test_postgres_url_is_parsed_and_turns_jit_off(load):
    settings = load(DATABASE_URL="postgres://budget:pw@db.example.com:5433/budgets")
    database = settings.DATABASES["default"]
    assert database["ENGINE"] == "server.postgresql"  # Django's, checked by its socket
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("budgets", "budget", "pw")
    assert (database["HOST"], database["PORT"]) == ("db.example.com", 5433)
    assert database["OPTIONS"]["options"] == "-c jit=off"
    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (60, True)
    assert (database["OPTIONS"]["server_side_binding"], database["OPTIONS"]["prepare_threshold"]) == (True, 2)


def test_prepared_statements_can_be_turned_off_for_a_pooler(load):
    options = load(DATABASE_URL="postgres://u@h/db", DATABASE_PREPARE_THRESHOLD="0").DATABASES["default"][
        "OPTIONS"
    ]
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options
    later = load(DATABASE_URL="postgres://u@h/db", DATABASE_PREPARE_THRESHOLD="10").DATABASES["default"][
        "OPTIONS"
    ]
    assert later["prepare_threshold"] == 10


def test_sqlite_has_no_prepared_statement_options(load, tmp_path):
    options = load(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}").DATABASES["default"]["OPTIONS"]
    assert "server_side_binding" not in options


def test_database_connections_can_be_per_request(load):
    settings = load(DATABASE_URL="postgres://u@h/db", DATABASE_CONN_MAX_AGE="0")
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0


def test_postgres_url_options_are_kept_next_to_jit_off(load):
    settings = load(DATABASE_URL="postgresql://u@h/db?options=-c%20statement_timeout%3D5000")
    assert settings.DATABASES["default"]["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"


def test_sqlite_url_is_parsed(load, tmp_path):
    settings = load(DATABASE_URL=f"sqlite:///{tmp_path}/budget.sqlite3")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.DATABASES["default"]["NAME"] == f"{tmp_path}/budget.sqlite3"
    # Writers take the lock when their transaction begins and queue for it (server/env.py).
    assert settings.DATABASES["default"]["OPTIONS"] == {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("locmem://", {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}),
        (
            "smtp://user:p%40ss@mail.example.com:587/?tls=True&timeout=10",
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "mail.example.com",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "user",
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
                "EMAIL_TIMEOUT": 10,
            },
        ),
        ("smtps://mail.example.com", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
        ("file:///var/mail/api", {"EMAIL_FILE_PATH": "/var/mail/api"}),
    ],
)
def test_email_url_sets_djangos_email_settings(load, url, expected):
    settings = load(EMAIL_URL=url, DEFAULT_FROM_EMAIL="Budget <budget@example.com>")
    assert {name: getattr(settings, name) for name in expected} == expected
    assert settings.DEFAULT_FROM_EMAIL == settings.SERVER_EMAIL == "Budget <budget@example.com>"


def test_sqlite_options_from_the_url_win(load, tmp_path):
    settings = load(DATABASE_URL=f"sqlite:///{tmp_path}/budget.sqlite3?timeout=5")
    assert settings.DATABASES["default"]["OPTIONS"]["timeout"] == 5
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize("url", ["redis://cache:6379/1", "rediss://:pw@cache.example.com:6380/0"])
def test_redis_cache_url(load, url):
    settings = load(CACHE_URL=url)
    assert settings.CACHES["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("off", False), ("", False)],
)
def test_booleans_accept_the_usual_spellings(load, value, expected):
    assert load(DJANGO_SECURE=value).SECURE_SSL_REDIRECT is expected


def test_secure_turns_on_the_https_settings(load):
    settings = load(DJANGO_SECURE="1")
    assert settings.SECURE_SSL_REDIRECT is True
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SECURE_HSTS_SECONDS >= 31_536_000
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


def test_lists_hosts_and_origins(load):
    settings = load(
        DJANGO_ALLOWED_HOSTS=" api.example.com, .example.com ,[::1],10.0.0.1",
        CORS_ALLOWED_ORIGINS="https://app.example.com/, http://localhost:5173",
        CSRF_TRUSTED_ORIGINS="https://*.example.com",
    )
    assert settings.ALLOWED_HOSTS == ["api.example.com", ".example.com", "[::1]", "10.0.0.1"]
    assert settings.CORS_ALLOWED_ORIGINS == ["https://app.example.com", "http://localhost:5173"]
    assert settings.CSRF_TRUSTED_ORIGINS == ["https://*.example.com"]


def test_numbers_rates_and_log_level(load):
    settings = load(
        JWT_ACCESS_MINUTES="15",
        JWT_REFRESH_DAYS="30",
        THROTTLE_RATE_ANON="20/hour",
        THROTTLE_RATE_USER="5/s",
        THROTTLE_RATE_AUTH="3/day",
        THROTTLE_RATE_EMAIL="2/day",
        NUM_PROXIES="2",
        DATA_UPLOAD_MAX_MEMORY_SIZE="4096",
        LOG_LEVEL="warning",
    )
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() == 15 * 60
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].days == 30
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "anon": "20/hour",
        "user": "5/s",
        "auth": "3/day",
        "email": "2/day",
    }
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 2
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 4096
    assert settings.LOGGING["root"]["level"] == "WARNING"


# --- bad values --------------------------------------------------------------

BAD_VALUES = [
    ("DJANGO_DEBUG", "maybe"),
    ("DJANGO_SECRET_KEY", "too-short"),
    ("DJANGO_SECRET_KEY", "a" * 60),
    ("DJANGO_SECRET_KEY", "django-insecure-" + "x1y2z3" * 10),
    ("JWT_SIGNING_KEY", "short-jwt-key"),
    ("DJANGO_ALLOWED_HOSTS", "https://api.example.com"),
    ("DJANGO_ALLOWED_HOSTS", "api.example.com:8000"),
    ("DJANGO_ALLOWED_HOSTS", "api.example.com/path"),
    ("DJANGO_ALLOWED_HOSTS", ""),
    ("DATABASE_URL", "nonsense"),
    ("DATABASE_URL", "mysql://u@h/db"),
    ("DATABASE_URL", "postgres://u@h:notaport/db"),
    ("DATABASE_URL", "postgres://u@h"),
    ("CACHE_URL", "memcached://cache:11211"),
    ("CACHE_URL", "redis://"),
    ("CACHE_URL", "redis://cache:port/0"),
    ("DATABASE_CONN_MAX_AGE", "forever"),
    ("DATABASE_CONN_MAX_AGE", "-1"),
    ("DATABASE_PREPARE_THRESHOLD", "often"),
    ("DATABASE_PREPARE_THRESHOLD", "-2"),
    ("DATA_UPLOAD_MAX_MEMORY_SIZE", "big"),
    ("DATA_UPLOAD_MAX_MEMORY_SIZE", "100"),
    ("DJANGO_SECURE", "sometimes"),
    ("CSRF_TRUSTED_ORIGINS", "admin.example.com"),
    ("CSRF_TRUSTED_ORIGINS", "https://"),
    ("CORS_ALLOWED_ORIGINS", "app.example.com"),
    ("CORS_ALLOWED_ORIGINS", "https://app.example.com/path"),
    ("CORS_ALLOWED_ORIGINS", "https://*.example.com"),
    ("CORS_ALLOWED_ORIGINS", "ftp://app.example.com"),
    ("NUM_PROXIES", "-1"),
    ("NUM_PROXIES", "one"),
    ("THROTTLE_RATE_ANON", "fast"),
    ("THROTTLE_RATE_USER", "0/min"),
    ("THROTTLE_RATE_AUTH", "10/fortnight"),
    ("THROTTLE_RATE_AUTH", "10"),
    ("JWT_ACCESS_MINUTES", "0"),
    ("JWT_ACCESS_MINUTES", "5m"),
    ("JWT_REFRESH_DAYS", "week"),
    ("JWT_REFRESH_DAYS", "-7"),
    ("INVITATION_TTL_DAYS", "0"),
    ("TOMBSTONE_RETENTION_DAYS", "0"),
    ("REQUIRE_IF_MATCH", "always"),
    ("IDEMPOTENCY_TTL_HOURS", "0"),
    ("REQUIRE_IDEMPOTENCY_KEY", "maybe"),
    ("IMPORT_MAX_CONCURRENT", "0"),
    ("THROTTLE_RATE_EMAIL", "often"),
    ("EMAIL_URL", "carrier-pigeon://coop"),
    ("EMAIL_URL", "smtp://host:port"),
    ("EMAIL_URL", "file://"),
    ("DEFAULT_FROM_EMAIL", "nobody"),
    ("PUBLIC_BASE_URL", "ftp://example.com"),
    ("PUBLIC_BASE_URL", "https://app.example.com/?next=1"),
    ("EMAIL_IN_BACKGROUND", "sometimes"),
    ("EMAIL_VERIFICATION_TTL_HOURS", "0"),
    ("PASSWORD_RESET_TTL_MINUTES", "1"),
    ("PASSWORD_RESET_EMAILS_PER_HOUR", "0"),
    ("LOGIN_FAILURE_LIMIT", "0"),
    ("LOGIN_FAILURE_LIMIT_PER_IP", "none"),
    ("LOGIN_LOCKOUT_MINUTES", "0"),
    ("IMPORT_TIMEOUT_SECONDS", "soon"),
    ("BENCH_ENDPOINTS", "perhaps"),
    ("LOG_LEVEL", "LOUD"),
]


def test_every_variable_has_a_bad_value_case():
    assert {name for name, _ in BAD_VALUES} == variables_read_by_settings()


@pytest.mark.parametrize(("name", "value"), BAD_VALUES, ids=[f"{n}={v[:20]}" for n, v in BAD_VALUES])
def test_bad_value_stops_start_up_naming_the_variable(load, name, value):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load(**{name: value})
    assert name in str(excinfo.value)


def test_empty_allowed_hosts_is_fine_in_debug(load):
    """Django itself allows localhost in debug when ALLOWED_HOSTS is empty."""
    assert load(DJANGO_DEBUG="1", DJANGO_ALLOWED_HOSTS="").ALLOWED_HOSTS == []


def test_dotenv_fills_only_what_the_environment_lacks(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\n\nLOG_LEVEL=DEBUG\nTHROTTLE_RATE_AUTH='5/min'\nnot a pair\nJWT_REFRESH_DAYS = \"3\"\n"
    )
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    monkeypatch.delenv("THROTTLE_RATE_AUTH", raising=False)
    monkeypatch.delenv("JWT_REFRESH_DAYS", raising=False)
    load_dotenv(dotenv)
    assert os.environ["LOG_LEVEL"] == "ERROR"
    assert os.environ["THROTTLE_RATE_AUTH"] == "5/min"
    assert os.environ["JWT_REFRESH_DAYS"] == "3"


def test_dotenv_is_optional(tmp_path, monkeypatch):
    monkeypatch.delenv("THROTTLE_RATE_AUTH", raising=False)
    load_dotenv(tmp_path / "missing.env")
    assert "THROTTLE_RATE_AUTH" not in os.environ


# --- subprocesses: what an operator sees ------------------------------------


def operator_env(**overrides) -> dict[str, str]:
    """The process environment without any of our variables, then the .env.example
    defaults set explicitly (so a developer's .env cannot leak in), then overrides."""
    env = {k: v for k, v in os.environ.items() if k not in variables_read_by_settings()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(example_values())
    env["DATABASE_URL"] = "sqlite://:memory:"
    env.update(overrides)
    return env


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=operator_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def real_keys() -> dict[str, str]:
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "JWT_SIGNING_KEY": secrets.token_urlsafe(64)}


def test_manage_py_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr


def test_manage_py_refuses_to_start_with_a_bad_value_naming_it():
    result = manage("check", THROTTLE_RATE_AUTH="lots", **real_keys())
    assert result.returncode != 0
    assert "ImproperlyConfigured: THROTTLE_RATE_AUTH must be a rate like 10/min" in result.stderr


def test_manage_py_check_passes_with_good_values():
    result = manage("check", **real_keys())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_passes_with_secure_on_and_real_keys():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECURE="1", **real_keys())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_without_secure():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECURE="0", **real_keys())
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, result.stderr


REQUEST_SCRIPT = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="localhost")
out = {}
for name, kwargs in [("http", {}), ("https", {"HTTP_X_FORWARDED_PROTO": "https"})]:
    for path in ("/api/health/", "/api/v1/auth/me/"):
        r = client.get(path, **kwargs)
        out[f"{name} {path}"] = [r.status_code, r.get("Location"), r.get("Strict-Transport-Security")]
print(json.dumps(out))
"""


def serve(**env):
    result = subprocess.run(
        [sys.executable, "-c", REQUEST_SCRIPT],
        cwd=REPO,
        env=operator_env(DJANGO_SETTINGS_MODULE="server.settings", **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_plain_http_works_with_debug_off_and_secure_off():
    seen = serve(DJANGO_DEBUG="0", DJANGO_SECURE="0", **real_keys())
    assert seen["http /api/health/"] == [200, None, None]
    assert seen["http /api/v1/auth/me/"] == [401, None, None]


def test_secure_redirects_plain_http_and_sends_hsts_over_https():
    seen = serve(DJANGO_DEBUG="0", DJANGO_SECURE="1", **real_keys())
    assert seen["http /api/v1/auth/me/"][:2] == [301, "https://localhost/api/v1/auth/me/"]
    # Load balancers probe health over plain HTTP.
    assert seen["http /api/health/"][0] == 200
    status, _, hsts = seen["https /api/v1/auth/me/"]
    assert status == 401
    assert hsts == "max-age=31536000; includeSubDomains; preload"


def test_bench_endpoints_are_refused_in_production(load):
    with pytest.raises(ImproperlyConfigured, match="BENCH_ENDPOINTS"):
        load(BENCH_ENDPOINTS="1", DJANGO_SECURE="1")
