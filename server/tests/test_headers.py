"""Security headers on every /api/ response, success or error (2xx, 4xx, 5xx), and CORS only
for the origins in CORS_ALLOWED_ORIGINS."""

from unittest import mock

import pytest
from rest_framework.test import APIClient

from accounts.services import token_pair_for
from accounts.tests.factories import UserFactory
from budgets.tests.factories import BudgetFactory, share_user
from households.tests.factories import make_household
from server.tests.helpers import assert_error

pytestmark = pytest.mark.django_db

ALLOWED = "https://app.example.com"
DISALLOWED = "https://evil.example.net"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}


@pytest.fixture(autouse=True)
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


class Scene:
    """An owner with a budget shared (view only) with a housemate."""

    def __init__(self):
        self.owner, self.viewer = UserFactory(), UserFactory()
        make_household(self.owner, members=[self.viewer])
        self.budget = BudgetFactory(owner=self.owner)
        share_user(self.budget, self.viewer, "view")

    def client(self, user=None, origin=None) -> APIClient:
        client = APIClient(raise_request_exception=False)
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user)['access']}")
        if origin is not None:
            client.defaults["HTTP_ORIGIN"] = origin
        return client


def _200(scene, client, settings):
    return client(scene.owner).get("/api/v1/auth/me/")


def _201(scene, client, settings):
    return client(scene.owner).post("/api/v1/households/", {"name": "Cabin"})


def _204(scene, client, settings):
    return client(scene.owner).delete(f"/api/v1/budgets/{scene.budget.pk}/")


def _400(scene, client, settings):
    return client(scene.owner).post("/api/v1/households/", {}, format="json")


def _401(scene, client, settings):
    return client().get("/api/v1/auth/me/")


def _403(scene, client, settings):
    return client(scene.viewer).patch(f"/api/v1/budgets/{scene.budget.pk}/", {"name": "Mine now"})


def _404(scene, client, settings):
    return client(scene.owner).get(f"/api/v1/budgets/{scene.budget.pk + 1000}/")


def _405(scene, client, settings):
    return client().get("/api/v1/auth/token/")


def _413(scene, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    return client(scene.owner).post("/api/v1/households/", {"name": "x" * 2048}, format="json")


def _429(scene, client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "1/min"},
    }
    client(scene.owner).get("/api/v1/auth/me/")
    return client(scene.owner).get("/api/v1/auth/me/")


def _500(scene, client, settings):
    with mock.patch("budgets.selectors.budget_shares", side_effect=RuntimeError("boom")):
        return client(scene.owner).get(f"/api/v1/budgets/{scene.budget.pk}/shares/")


RESPONSES = {
    200: (_200, None),
    201: (_201, None),
    204: (_204, None),
    400: (_400, "required"),
    401: (_401, "not_authenticated"),
    403: (_403, "permission_denied"),
    404: (_404, "not_found"),
    405: (_405, "method_not_allowed"),
    413: (_413, "payload_too_large"),
    429: (_429, "throttled"),
    500: (_500, "error"),
}


@pytest.mark.parametrize(
    "origin", [ALLOWED, DISALLOWED, None], ids=["allowed-origin", "other-origin", "no-origin"]
)
@pytest.mark.parametrize("status", list(RESPONSES))
def test_every_api_response_carries_the_security_headers(settings, status, origin):
    scene = Scene()
    make, code = RESPONSES[status]
    response = make(scene, lambda user=None: scene.client(user, origin), settings)

    if code is None:
        assert response.status_code == status, response.content[:300]
        if status == 204:
            assert response.content == b""
        else:
            assert response.json()["id"]
    else:
        body = assert_error(response, status, code=code)
        expected_type = {400: "validation_error", 500: "server_error"}.get(status, "client_error")
        assert body["type"] == expected_type
        assert response["Content-Type"] == "application/json"
        assert "boom" not in response.content.decode()
    for header, value in SECURITY_HEADERS.items():
        assert response.get(header) == value, (status, header, response.get(header))
    if origin == ALLOWED:
        assert response["Access-Control-Allow-Origin"] == ALLOWED
        assert "origin" in response["Vary"].lower()
    else:
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_preflight_from_an_allowed_origin_is_answered(method):
    response = APIClient().options(
        "/api/v1/budgets/1/",
        HTTP_ORIGIN=ALLOWED,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert method in response["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= {
        h.strip() for h in response["Access-Control-Allow-Headers"].split(",")
    }
    assert int(response["Access-Control-Max-Age"]) > 0
    for header, value in SECURITY_HEADERS.items():
        assert response.get(header) == value, header


def test_a_preflight_from_another_origin_gets_no_cors_headers():
    response = APIClient().options(
        "/api/v1/budgets/1/",
        HTTP_ORIGIN=DISALLOWED,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="DELETE",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response.status_code == 200
    assert response.content == b""
    for header in ("Allow-Origin", "Allow-Methods", "Allow-Headers", "Allow-Credentials", "Max-Age"):
        assert f"Access-Control-{header}" not in response
    for header, value in SECURITY_HEADERS.items():
        assert response.get(header) == value, header


def test_an_allowed_origin_gets_no_cors_headers_outside_the_api():
    response = APIClient().get("/admin/login/", HTTP_ORIGIN=ALLOWED)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_unless_configured(settings):
    settings.CORS_ALLOWED_ORIGINS = []
    response = APIClient().get("/api/health/", HTTP_ORIGIN=ALLOWED)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "Access-Control-Allow-Origin" not in response
