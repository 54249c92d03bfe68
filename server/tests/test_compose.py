"""compose.yaml (issue 19): the databases it runs are the ones the README's "With Docker
Compose" commands point the API at, in URLs that the settings' own readers accept.

Docker is not needed: the file is parsed, not run."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from server.env import env_cache, env_database

REPO = Path(settings.BASE_DIR)
COMPOSE = REPO / "compose.yaml"
README = REPO / "README.md"
SECTION = "## With Docker Compose"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def readme_section() -> str:
    text = README.read_text()
    assert SECTION in text, "README lost its Docker Compose section"
    body = text.split(SECTION, 1)[1]
    return body.split("\n## ", 1)[0]


def urls_in(text: str, variable: str) -> set[str]:
    return set(re.findall(rf"\b{variable}=(\S+)", text))


def the_url(variable: str) -> str:
    """The one value the README section gives the variable (compose.yaml's header agrees)."""
    in_readme = urls_in(readme_section(), variable)
    assert len(in_readme) == 1, f"README's compose section gives {variable} as {in_readme}"
    assert urls_in(COMPOSE.read_text(), variable) == in_readme, (
        f"compose.yaml's comment differs on {variable}"
    )
    return in_readme.pop()


def published(service: dict) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of each `ports:` entry."""
    entries = []
    for entry in service.get("ports", []):
        host, host_port, container_port = str(entry).split(":")
        entries.append((host, int(host_port), int(container_port)))
    return entries


def test_compose_runs_official_images_each_with_a_healthcheck():
    services = compose()["services"]
    assert {name: service["image"] for name, service in services.items()} == {
        "postgres": "postgres:16",
        "redis": "redis:7",
    }
    for name, service in services.items():
        check = service.get("healthcheck", {}).get("test")
        assert check and check[0] == "CMD", f"{name} has no healthcheck for `up --wait`"


def test_compose_publishes_ports_on_loopback_only():
    for name, service in compose()["services"].items():
        ports = published(service)
        assert ports, f"{name} publishes nothing the API could reach"
        assert all(host == "127.0.0.1" for host, _, _ in ports), f"{name} listens beyond this machine"


def test_the_database_is_kept_in_a_declared_named_volume():
    spec = compose()
    mounts = spec["services"]["postgres"]["volumes"]
    assert mounts == ["postgres-data:/var/lib/postgresql/data"]
    assert "postgres-data" in spec["volumes"]


def test_the_readme_database_url_is_accepted_and_reaches_the_compose_postgres(monkeypatch):
    url = the_url("DATABASE_URL")
    monkeypatch.setenv("DATABASE_URL", url)
    config = env_database("DATABASE_URL", "sqlite:///unused.sqlite3")

    service = compose()["services"]["postgres"]
    environment = service["environment"]
    [(host, host_port, container_port)] = published(service)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"]) == (host, host_port)
    assert container_port == 5432
    assert config["USER"] == environment["POSTGRES_USER"]
    assert config["PASSWORD"] == environment["POSTGRES_PASSWORD"]
    assert config["NAME"] == environment["POSTGRES_DB"]
    # The healthcheck asks about the same role and database the API uses.
    assert service["healthcheck"]["test"][1:] == ["pg_isready", "-U", config["USER"], "-d", config["NAME"]]


def test_the_readme_cache_url_is_accepted_and_reaches_the_compose_redis(monkeypatch):
    url = the_url("CACHE_URL")
    monkeypatch.setenv("CACHE_URL", url)
    config = env_cache("CACHE_URL")

    [(host, host_port, container_port)] = published(compose()["services"]["redis"])
    assert config == {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    assert url == f"redis://{host}:{host_port}/0"
    assert container_port == 6379


def test_the_readme_starts_compose_and_waits_for_health():
    section = readme_section()
    assert "docker compose up -d --wait" in section
    assert "docker compose down" in section


@pytest.mark.parametrize(
    ("variable", "reader", "bad"),
    [
        (
            "DATABASE_URL",
            lambda: env_database("DATABASE_URL", "sqlite:///x"),
            "mysql://budget@127.0.0.1/budget",
        ),
        ("CACHE_URL", lambda: env_cache("CACHE_URL"), "memcached://127.0.0.1:11211"),
    ],
)
def test_the_readers_used_here_refuse_what_compose_could_not_serve(monkeypatch, variable, reader, bad):
    """The checks above mean something: the same readers refuse a service the app cannot use."""
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv(variable, bad)
    with pytest.raises(ImproperlyConfigured, match=variable):
        reader()
