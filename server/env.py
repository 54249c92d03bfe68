"""Typed reads of the process environment.

Every reader raises ImproperlyConfigured naming the variable, so a bad value
stops start-up with a message an operator can act on.
"""

import os
import re
from urllib.parse import urlsplit

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_RATE = re.compile(r"^[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)$")
# What Django's ALLOWED_HOSTS matches: a name, a .suffix wildcard, an IP, [IPv6] or *; no port.
_HOST = re.compile(r"^(\*|\.?[a-z0-9-]+(\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])$", re.IGNORECASE)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value in (None, ""):
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_origins(name: str, *, wildcard_subdomains: bool = False) -> list[str]:
    """Origins like https://app.example.com; with wildcard_subdomains (Django's
    CSRF_TRUSTED_ORIGINS), https://*.example.com too."""
    origins = env_list(name, [])
    for origin in origins:
        parts = urlsplit(origin)
        host = parts.netloc.removeprefix("*.") if wildcard_subdomains else parts.netloc
        if (
            parts.scheme not in ("http", "https")
            or not host
            or "*" in host
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            example = "https://app.example.com" + (" or https://*.example.com" if wildcard_subdomains else "")
            raise ImproperlyConfigured(f"{name} must list origins like {example}; got {origin!r}.")
    return [origin.rstrip("/") for origin in origins]


def env_hosts(name: str, default: list[str], *, allow_empty: bool) -> list[str]:
    hosts = env_list(name, default)
    for host in hosts:
        if not _HOST.match(host):
            raise ImproperlyConfigured(
                f"{name} must list host names like api.example.com, .example.com or 127.0.0.1 "
                f"(no scheme, port or path); got {host!r}."
            )
    if not hosts and not allow_empty:
        raise ImproperlyConfigured(f"{name} is empty: with debug off no request would be served.")
    return hosts


def env_secret(name: str, *, min_length: int) -> str | None:
    """A key from the environment, or None when unset; a short or repetitive one is refused."""
    value = env_str(name)
    if value is None:
        return None
    if len(value.encode()) < min_length or len(set(value)) < 5 or value.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            f"{name} must be a random string of at least {min_length} characters; generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).upper()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


def env_rate(name: str, default: str) -> str:
    value = env_str(name, default)
    if not _RATE.match(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate like 10/min (a positive number/s|min|hour|day); got {value!r}."
        )
    return value


def env_database(name: str, default: str) -> dict:
    value = env_str(name, default)
    try:
        config = dj_database_url.parse(value, conn_max_age=0)
    except Exception as exc:  # dj-database-url raises several types
        raise ImproperlyConfigured(f"{name} is not a database URL we understand: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine.endswith("postgresql"):
        options = config.setdefault("OPTIONS", {})
        if not config.get("NAME") and not options.get("service"):
            raise ImproperlyConfigured(
                f"{name} must name the database, as in postgres://user@host:5432/name."
            )
        # Short OLTP queries: JIT compilation costs more than it saves. Kept alongside
        # any options the URL sets itself (?options=-c%20statement_timeout%3D5000).
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    elif engine.endswith("sqlite3"):
        options = config.setdefault("OPTIONS", {})
        # Each transaction takes SQLite's write lock when it begins, so the checks a service
        # makes inside it and its writes are never interleaved with another writer's (the
        # row locks of PostgreSQL, database-wide); other writers queue for up to 20 s
        # instead of failing with "database is locked". WAL lets reads go on meanwhile.
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
    else:
        raise ImproperlyConfigured(f"{name} must point at PostgreSQL or SQLite; got engine {engine!r}.")
    return config


def env_cache(name: str) -> dict:
    value = env_str(name, "locmem://")
    parts = urlsplit(value)
    if parts.scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "budget-api"}
    if parts.scheme in ("redis", "rediss"):
        try:
            valid = bool(parts.hostname) and (parts.port is None or parts.port > 0)
        except ValueError:  # a port that is not a number
            valid = False
        if valid:
            return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": value}
    raise ImproperlyConfigured(f"{name} must be locmem:// or redis://host:port/db; got {value!r}.")


def load_dotenv(path) -> None:
    """Reads KEY=VALUE lines from a local .env (for manage.py on a developer's machine).

    Variables already in the environment win; the file is optional.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


# EMAIL_URL schemes: dj-email-url's, plus locmem:// (Django's name for its in-memory backend)
# and smtps:// meaning implicit TLS (port 465), as the scheme says, not STARTTLS.
_EMAIL_SCHEMES = ("smtp", "submission", "smtps", "console", "locmem", "memory", "file", "dummy")


def env_email(name: str, default: str) -> dict:
    """EMAIL_URL -> Django's EMAIL_* settings, e.g. smtp://user:pass@host:587/?tls=True."""
    value = env_str(name, default)
    scheme, _, rest = value.partition("://")
    if scheme not in _EMAIL_SCHEMES or not _:
        raise ImproperlyConfigured(
            f"{name} must be an email URL with one of the schemes {', '.join(_EMAIL_SCHEMES)} "
            f"(e.g. smtp://user:pass@host:587/?tls=True or console://); got {value!r}."
        )
    url = {"locmem": f"memory://{rest}", "smtps": f"smtp://{rest}"}.get(scheme, value)
    try:
        config = dj_email_url.parse(url)
    except ValueError as exc:  # a port or timeout that is not a number
        raise ImproperlyConfigured(f"{name} is not an email URL we understand: {exc}") from None
    if scheme == "smtps":
        config.update(EMAIL_USE_SSL=True, EMAIL_USE_TLS=False)
        if urlsplit(url).port is None:
            config["EMAIL_PORT"] = 465
    if config["EMAIL_BACKEND"].endswith("filebased.EmailBackend") and not config["EMAIL_FILE_PATH"]:
        raise ImproperlyConfigured(f"{name} with file:// must name a directory, as in file:///var/mail/api.")
    if config["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
        config["EMAIL_FILE_PATH"] = "/" + config["EMAIL_FILE_PATH"]
    return {key: item for key, item in config.items() if item is not None and item != ""}


def env_public_url(name: str, default: str) -> str:
    """An http(s) base URL for links in emails, without a trailing slash."""
    value = env_str(name, default)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} must be an http(s) URL like https://app.example.com; got {value!r}."
        )
    return value.rstrip("/")


def env_from_address(name: str, default: str) -> str:
    """A sender like "Household Budget <no-reply@example.com>" or a bare address."""
    from email.utils import parseaddr

    value = env_str(name, default)
    _, address = parseaddr(value)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise ImproperlyConfigured(
            f'{name} must be an email address, optionally with a name ("Budget <no-reply@example.com>"); '
            f"got {value!r}."
        )
    return value
