"""Health check, OpenAPI schema, Swagger UI without a CDN, and the admin with its
static files served by whitenoise with debug off, as in production."""

import re
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client, override_settings

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from server import settings as production_settings
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

HEALTH = "/api/health/"


# --- health ------------------------------------------------------------------


def test_health_is_ok_without_credentials(anon):
    response = anon.get(HEALTH)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_ignores_a_bad_token(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = anon.get(HEALTH)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_health_is_503_with_the_standard_body_when_the_database_is_down(settings, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get(HEALTH)
    body = assert_error(response, 503, code="database_unavailable", attr=None)
    assert body["type"] == "server_error"
    assert body["errors"][0]["detail"] == "The database cannot be reached."
    assert "connection refused" not in response.content.decode()
    assert response["Content-Type"] == "application/json"


# --- schema ------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operation(schema, path, method):
    return schema["paths"][path][method]


def response_ref(schema, path, method, status):
    content = operation(schema, path, method)["responses"][status]["content"]["application/json"]["schema"]
    return content["$ref"].rsplit("/", 1)[-1]


def test_schema_is_openapi_3_with_the_jwt_bearer_scheme(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_schema_requires_the_bearer_token_where_the_api_does(schema):
    assert operation(schema, "/api/v1/auth/me/", "get")["security"] == [{"jwtAuth": []}]
    assert operation(schema, "/api/v1/auth/password/", "post")["security"] == [{"jwtAuth": []}]
    for path in ("/api/v1/auth/token/", "/api/v1/auth/register/", "/api/v1/auth/token/refresh/"):
        assert "security" not in operation(schema, path, "post"), path


def test_schema_documents_the_error_responses(schema):
    me = operation(schema, "/api/v1/auth/me/", "patch")["responses"]
    assert {"400", "401", "405", "413", "415", "429", "500"} <= set(me)
    assert "409" not in me
    assert response_ref(schema, "/api/v1/auth/me/", "get", "401") == "ErrorResponse401"
    assert "413" not in operation(schema, "/api/v1/auth/me/", "get")["responses"]
    for path in ("/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/auth/logout/"):
        assert response_ref(schema, path, "post", "401") == "ErrorResponse401"
        assert response_ref(schema, path, "post", "429") == "ErrorResponse429"
    assert response_ref(schema, HEALTH, "get", "503") == "ErrorResponse503"
    assert response_ref(schema, "/api/v1/auth/register/", "post", "413") == "ErrorResponse413"


def test_schema_lists_the_401_codes_the_api_sends(schema):
    codes = set(schema["components"]["schemas"]["ErrorCode401Enum"]["enum"])
    assert {"not_authenticated", "token_not_valid", "no_active_account", "password_changed"} <= codes
    assert {"user_inactive", "user_not_found", "bad_authorization_header"} <= codes


def test_the_schema_is_generated_once_per_language_and_the_same_for_everyone(client_for, anon, settings):
    from drf_spectacular.generators import SchemaGenerator

    from server.views import SchemaView

    SchemaView._generated.clear()
    accept = {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}
    with mock.patch.object(
        SchemaGenerator, "get_schema", autospec=True, side_effect=SchemaGenerator.get_schema
    ) as generated:
        first = anon.get("/api/schema/", **accept)
        again = client_for(UserFactory()).get("/api/schema/", **accept)
        assert generated.call_count == 1
        assert first.status_code == again.status_code == 200 and first.content == again.content
        # A language nobody configured is answered, but not kept: no cache to fill with ?lang=.
        for _ in range(2):
            assert anon.get("/api/schema/", {"lang": "xx-unknown"}, **accept).status_code == 200
        assert generated.call_count == 3
        settings.REQUIRE_IF_MATCH = not settings.REQUIRE_IF_MATCH  # any change: generated again
        assert anon.get("/api/schema/", **accept).status_code == 200
        assert generated.call_count == 4


def test_schema_validates_without_warnings(tmp_path):
    """The same command CI runs; any warning fails it."""
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert text.startswith("openapi: 3.")
    assert "/api/v1/auth/token/:" in text


# --- static files with debug off (production storage, whitenoise) -----------


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    """collectstatic into a fresh STATIC_ROOT with the production storage (hashed,
    compressed names); whitenoise serves only what is collected when debug is off."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root, STORAGES=production_settings.STORAGES, DEBUG=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


@pytest.fixture
def web(collected_static):
    """A client created after collectstatic, so whitenoise sees the files."""
    return Client(raise_request_exception=False)


ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def test_swagger_ui_is_served_with_local_assets(web):
    response = web.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = ASSET.findall(html)
    assert any("swagger-ui-bundle" in url for url in assets), assets
    assert any("swagger-ui.css" in url or "swagger-ui." in url for url in assets), assets
    for url in assets:
        assert url.startswith("/static/drf_spectacular_sidecar/"), url
    for cdn in ("cdn.", "jsdelivr", "unpkg", "cdnjs", "//"):
        assert all(cdn not in url for url in assets), (cdn, assets)
    assert "/api/schema/" in html


def test_swagger_ui_assets_are_served_by_whitenoise(web):
    html = web.get("/api/docs/").content.decode()
    for url in ASSET.findall(html):
        asset = web.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content), url
        assert "immutable" in asset["Cache-Control"], (url, asset["Cache-Control"])


def test_admin_login_works_with_debug_off(web):
    response = web.get("/admin/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    css = [url for url in ASSET.findall(html) if url.endswith(".css")]
    assert css, html[:500]
    for url in css:
        assert re.search(r"/static/admin/css/.+\.[0-9a-f]{12}\.css$", url), url
        sheet = web.get(url)
        assert sheet.status_code == 200, url
        assert sheet["Content-Type"].startswith("text/css")


def test_admin_login_accepts_a_staff_user(web):
    staff = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    response = web.post("/admin/login/?next=/admin/", {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert web.get("/admin/").status_code == 200


def test_admin_login_refuses_a_non_staff_user(web):
    person = UserFactory(email="person@example.com", is_staff=False)
    credentials = {"username": person.email, "password": DEFAULT_PASSWORD}
    response = web.post("/admin/login/?next=/admin/", credentials)
    assert response.status_code == 200
    assert "Please enter the correct" in response.content.decode()
    assert web.get("/admin/").status_code == 302


def test_missing_static_file_is_404(web):
    assert web.get("/static/admin/css/not-there.css").status_code == 404
