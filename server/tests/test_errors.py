"""One error shape for every error status under /api/, with debug off and on.

Statuses no production endpoint can produce yet (403, 409, 500, multipart 413) come
from the tiny views below, mounted in front of the real URLs by
`pytest.mark.urls(__name__)`; they exist only while these tests run.
"""

import io
import json

import pytest
from django.http import Http404, HttpResponse
from django.urls import path
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.tests.factories import UserFactory
from server import urls as root_urls
from server.exceptions import Conflict, PayloadTooLarge
from server.parsers import JSONParser
from server.tests.helpers import assert_error

# --- test-only URLconf -------------------------------------------------------


class _Open(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


class AdminOnlyView(APIView):
    permission_classes = [IsAdminUser]

    def get(self, request):
        return Response({"ok": True})


class ConflictView(_Open):
    def post(self, request):
        raise Conflict()


class BrokenApiView(_Open):
    def get(self, request):
        raise RuntimeError("secret-internal-detail")


class UploadView(_Open):
    parser_classes = [MultiPartParser, FormParser]

    def post(self, request):
        return Response({"fields": sorted(request.data)})


class CachedView(_Open):
    def get(self, request):
        return Response({"public": True}, headers={"Cache-Control": "max-age=60"})


def broken_django_view(request):
    raise RuntimeError("secret-internal-detail")


def missing_django_view(request):
    raise Http404("secret-internal-detail")


def raw_body_django_view(request):
    return HttpResponse(str(len(request.body)))


urlpatterns = [
    path("api/test/admin-only/", AdminOnlyView.as_view()),
    path("api/test/conflict/", ConflictView.as_view()),
    path("api/test/broken/", BrokenApiView.as_view()),
    path("api/test/upload/", UploadView.as_view()),
    path("api/test/broken-django/", broken_django_view),
    path("api/test/missing-django/", missing_django_view),
    path("api/test/raw-body/", raw_body_django_view),
    path("api/test/cached/", CachedView.as_view()),
    path("not-api/broken/", broken_django_view),
    *root_urls.urlpatterns,
]
handler500 = root_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

TOKEN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
ME = "/api/v1/auth/me/"


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def api_client(debug):
    """An API client, debug off and on, that returns 500 responses instead of re-raising."""
    return APIClient(raise_request_exception=False)


def assert_api_error(response, status, type_, code):
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = assert_error(response, status, code=code)
    assert body["type"] == type_, body
    text = response.content.decode()
    assert "Traceback" not in text and "<html" not in text.lower(), text[:300]
    assert "secret-internal-detail" not in text
    assert response["Cache-Control"] == "private, no-store"
    return body


# --- 400 ---------------------------------------------------------------------


def test_400_validation_error_names_each_field(api_client):
    body = assert_api_error(api_client.post(REGISTER, {}), 400, "validation_error", "required")
    assert {(e["attr"], e["code"]) for e in body["errors"]} == {
        ("email", "required"),
        ("password", "required"),
    }


def test_400_malformed_json_is_parse_error(api_client):
    response = api_client.post(TOKEN, data='{"email": "a@example.com",', content_type="application/json")
    body = assert_api_error(response, 400, "client_error", "parse_error")
    assert body["errors"][0]["attr"] is None
    assert body["errors"][0]["detail"].startswith("JSON parse error")


def test_400_invalid_utf8_is_parse_error(api_client):
    response = api_client.post(TOKEN, data=b'{"email": "\xff\xfe"}', content_type="application/json")
    assert_api_error(response, 400, "client_error", "parse_error")


def test_400_deeply_nested_json_is_parse_error(api_client):
    response = api_client.post(TOKEN, data="[" * 100_000, content_type="application/json")
    body = assert_api_error(response, 400, "client_error", "parse_error")
    assert "nested too deeply" in body["errors"][0]["detail"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_400_non_standard_json_constants_are_refused(api_client, constant):
    response = api_client.post(TOKEN, data=f'{{"email": {constant}}}', content_type="application/json")
    body = assert_api_error(response, 400, "client_error", "parse_error")
    assert "not JSON compliant" in body["errors"][0]["detail"]


def test_400_a_json_array_where_an_object_is_expected_is_a_validation_error(api_client):
    response = api_client.post(TOKEN, data="[1, 2]", content_type="application/json")
    body = assert_api_error(response, 400, "validation_error", "invalid")
    assert body["errors"][0]["attr"] == "non_field_errors"


def test_400_empty_json_body_is_a_validation_error(api_client):
    response = api_client.post(TOKEN, data="", content_type="application/json")
    body = assert_api_error(response, 400, "validation_error", "required")
    assert {e["attr"] for e in body["errors"]} == {"email", "password"}


def test_400_too_many_form_fields(api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    response = api_client.post(
        "/api/test/upload/", data="a=1&b=2&c=3&d=4", content_type="application/x-www-form-urlencoded"
    )
    assert_api_error(response, 400, "client_error", "too_many_fields")


def test_form_fields_within_the_limit_are_parsed(api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    response = api_client.post(
        "/api/test/upload/", data="a=1&b=2", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.json() == {"fields": ["a", "b"]}


def test_json_nested_within_reason_is_parsed(api_client):
    nested = json.dumps({"email": "a@example.com", "password": "x", "extra": [[[[[[1]]]]]]})
    response = api_client.post(TOKEN, data=nested, content_type="application/json")
    assert_api_error(response, 401, "client_error", "no_active_account")


def test_400_from_a_disallowed_host_header_is_json(api_client):
    """Django rejects the Host header in its middleware; with debug on that is a
    traceback page unless the API middleware replaces it."""
    response = api_client.get("/api/health/", HTTP_HOST="evil.example")
    assert_api_error(response, 400, "client_error", "bad_request")


def test_400_from_a_disallowed_host_under_https_redirect_is_json(api_client, settings):
    """SecurityMiddleware reads the Host header first when it redirects to HTTPS."""
    settings.SECURE_SSL_REDIRECT = True
    response = api_client.get("/api/v1/auth/me/", HTTP_HOST="evil.example")
    assert_api_error(response, 400, "client_error", "bad_request")


def test_https_redirect_of_an_allowed_host_is_kept(api_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = api_client.get("/api/v1/auth/me/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/v1/auth/me/"


# --- 401 ---------------------------------------------------------------------


def test_401_without_credentials(api_client):
    response = api_client.get(ME)
    assert_api_error(response, 401, "client_error", "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_401_wrong_password(api_client):
    UserFactory(email="known@example.com")
    response = api_client.post(TOKEN, {"email": "known@example.com", "password": "wrong-password-1"})
    assert_api_error(response, 401, "client_error", "no_active_account")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# --- 403 ---------------------------------------------------------------------


def test_403_when_authenticated_but_not_permitted(client_for, debug):
    caller = client_for(UserFactory(is_staff=False))
    caller.raise_request_exception = False
    assert_api_error(caller.get("/api/test/admin-only/"), 403, "client_error", "permission_denied")


def test_staff_passes_the_same_permission(client_for, debug):
    response = client_for(UserFactory(is_staff=True)).get("/api/test/admin-only/")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


# --- 404 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/nope/"),
        ("post", "/api/nope/"),
        ("delete", "/api/v1/nothing/here/"),
        ("get", "/api/v1/auth/token"),  # no trailing slash: not redirected, not HTML
        ("get", "/api/v2/auth/me/"),
    ],
)
def test_404_unknown_api_path_is_json(api_client, method, path):
    body = assert_api_error(getattr(api_client, method)(path), 404, "client_error", "not_found")
    assert body["errors"][0]["attr"] is None


def test_404_raised_by_a_plain_django_view_is_json(api_client):
    assert_api_error(api_client.get("/api/test/missing-django/"), 404, "client_error", "not_found")


def test_unknown_path_outside_api_is_left_to_django(api_client):
    response = api_client.get("/not-the-api/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- 405 ---------------------------------------------------------------------


def test_405_wrong_method(api_client):
    response = api_client.get(TOKEN)
    body = assert_api_error(response, 405, "client_error", "method_not_allowed")
    assert '"GET"' in body["errors"][0]["detail"]
    assert "POST" in response["Allow"]


# --- 409 ---------------------------------------------------------------------


def test_409_conflict(api_client):
    body = assert_api_error(api_client.post("/api/test/conflict/", {}), 409, "client_error", "conflict")
    assert body["errors"][0]["attr"] is None


# --- 413 ---------------------------------------------------------------------


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    return 2048


def test_413_json_body_over_the_limit(api_client, small_limit):
    body = json.dumps({"email": "a@example.com", "password": "x" * small_limit})
    assert len(body) > small_limit
    response = api_client.post(TOKEN, data=body, content_type="application/json")
    assert_api_error(response, 413, "client_error", "payload_too_large")


def test_json_body_at_the_limit_is_parsed(api_client, small_limit):
    body = json.dumps({"email": "a@example.com", "password": "x"})
    body = body.replace('"x"', '"' + "x" * (small_limit - len(body) + 1) + '"')
    assert len(body) == small_limit
    response = api_client.post(TOKEN, data=body, content_type="application/json")
    assert_api_error(response, 401, "client_error", "no_active_account")


def test_json_parser_bounds_any_stream_it_is_given(small_limit):
    with pytest.raises(PayloadTooLarge):
        JSONParser().parse(io.BytesIO(b'"' + b"x" * small_limit + b'"'))
    assert JSONParser().parse(io.BytesIO(b'"' + b"x" * (small_limit - 2) + b'"')) == "x" * (small_limit - 2)


def test_413_multipart_body_over_the_limit(api_client, small_limit):
    response = api_client.post("/api/test/upload/", {"note": "x" * (small_limit + 1)}, format="multipart")
    assert_api_error(response, 413, "client_error", "payload_too_large")


def test_multipart_body_under_the_limit_is_parsed(api_client, small_limit):
    response = api_client.post("/api/test/upload/", {"note": "short"}, format="multipart")
    assert response.status_code == 200
    assert response.json() == {"fields": ["note"]}


def test_413_body_too_large_for_a_plain_django_view(api_client, small_limit):
    response = api_client.post("/api/test/raw-body/", data="x" * (small_limit + 1), content_type="text/plain")
    assert_api_error(response, 413, "client_error", "payload_too_large")


# --- 415 ---------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_415_unsupported_media_type(api_client, content_type):
    response = api_client.post(TOKEN, data="email=a@example.com", content_type=content_type)
    assert_api_error(response, 415, "client_error", "unsupported_media_type")


# --- 429 ---------------------------------------------------------------------


def test_429_throttled(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "2/min"},
    }
    for _ in range(2):
        assert api_client.post(REGISTER, {}).status_code == 400
    response = api_client.post(REGISTER, {})
    body = assert_api_error(response, 429, "client_error", "throttled")
    assert int(response["Retry-After"]) > 0
    assert "available in" in body["errors"][0]["detail"]


# --- 500 ---------------------------------------------------------------------


def test_500_from_an_api_view_is_json_without_traceback(api_client):
    assert_api_error(api_client.get("/api/test/broken/"), 500, "server_error", "error")


def test_500_from_a_plain_django_view_is_json_without_traceback(api_client):
    assert_api_error(api_client.get("/api/test/broken-django/"), 500, "server_error", "error")


def test_500_is_not_swallowed_for_the_test_client_by_default(debug):
    """The error still reaches Django's got_request_exception (error reporting)."""
    with pytest.raises(RuntimeError, match="secret-internal-detail"):
        APIClient().get("/api/test/broken/")


def test_500_outside_the_api_is_left_to_django(api_client, debug):
    response = api_client.get("/not-api/broken/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_api_response_keeps_its_own_cache_policy(api_client):
    response = api_client.get("/api/test/cached/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=60"


def test_api_success_is_not_cached(api_client):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
