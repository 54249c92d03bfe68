"""The leak matrix: every /api/ route x every method x every actor, against tenant A's data.

Routes come from the URL conf, not from a list kept by hand: a route or method without a
row in leak_expectations.py fails here, so a new endpoint cannot land without one. Per
cell (its own test id, e.g. ``budgets/{id}/ PATCH stranger``):

- the status is exactly the table's, and no actor outside the entitled set gets a 2xx;
- the raw body bytes (JSON, CSV, errors) hold no marker (id, name, payee, amount, email)
  of a group the actor is not entitled to, unless the request itself carried it;
- on a route under one of A's objects, an actor who may not know the object gets a
  status and body byte-identical to those for an id that never existed; the same holds
  for everyone but A when the route names A's private budget (or its category or
  transaction) instead;
- a refused request, and any GET/HEAD/OPTIONS, leaves every tenant table as it was.

The world is built once per module; each cell runs in its own savepoint and is rolled
back, so cells cannot see each other's writes.
"""

import json
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import token_pair_for
from accounts.tests.factories import DEFAULT_PASSWORD
from server.tests.leak_expectations import (
    ACTORS,
    DELETED,
    EXPECTED,
    EXPIRED,
    METHODS,
    OBJECT_ROUTES,
    PRIVATE_VARIANT_ROUTES,
    PUBLIC_ROUTES,
    UNAUTHENTICATED,
)
from server.tests.leak_world import MISSING_ID, MISSING_INVITATION, World, module_world, tenant_state
from server.tests.world import ANONYMOUS
from server.views import ApiIndexView, ApiNotFoundView

pytestmark = pytest.mark.django_db

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
WRITE_METHODS = ("POST", "PUT", "PATCH")

# ---------------------------------------------------------------------------------------
# Routes, from the URL conf

_PARAM = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


def _template(pattern: str) -> str:
    path = _PARAM.sub(lambda m: "{" + (m[1] or m[2]) + "}", pattern)
    return path.replace("^", "").replace("$", "").replace("{pk}", "{id}")


def api_routes() -> dict[str, str]:
    """Every /api/ route: its key in the table ("budgets/{id}/", "api/health/") -> its URL
    template ("/api/v1/budgets/{id}/"). Skips the catch-all JSON 404 and bench/."""
    routes: dict[str, str] = {}

    def walk(resolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            pattern = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry, pattern)
                continue
            path = _template(pattern)
            if not path.startswith("api/") or getattr(entry.callback, "view_class", None) is ApiNotFoundView:
                continue  # the admin site, bench/, and the catch-all JSON 404 for /api/
            routes[path.removeprefix("api/v1/") or path] = "/" + path

    walk(get_resolver(), "")
    return routes


ROUTES = api_routes()
CELLS = [(route, method, actor) for route in ROUTES for method in METHODS for actor in ACTORS]


def _is_2xx(status: int) -> bool:
    return 200 <= status < 300


# ---------------------------------------------------------------------------------------
# Requests: A's objects in the path, bodies that succeed for an entitled actor


def token(world: World, actor: str) -> str | None:
    if actor == ANONYMOUS:
        return None
    if actor == EXPIRED:
        # A real token of A, signed with SIMPLE_JWT["SIGNING_KEY"], that ran out an hour ago.
        expired = AccessToken.for_user(world.users["owner"])
        expired.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=5))
        return str(expired)
    if actor == DELETED:
        return str(AccessToken.for_user(world.ghost))
    return str(AccessToken.for_user(world.users[actor]))


def path_for(world: World, route: str, variant: str) -> str:
    """``variant``: "target" names A's objects (the shared budget's, for budget routes);
    "missing" puts an id that never existed in ``{id}``; "private" puts A's private budget
    (or its category or transaction) there."""
    resource = route.split("/")[0]
    ids = {
        "households": {"target": world.home.pk, "missing": MISSING_ID},
        "invitations": {"target": world.invitation.pk, "missing": MISSING_INVITATION},
        "budgets": {"target": world.shared.pk, "missing": MISSING_ID, "private": world.private.pk},
        "categories": {
            "target": world.shared_category.pk,
            "missing": MISSING_ID,
            "private": world.private_category.pk,
        },
        "transactions": {"target": world.shared_tx.pk, "missing": MISSING_ID, "private": world.private_tx.pk},
        "admin": {"target": world.grant_id, "missing": f"u{MISSING_ID}"},
    }
    user_id = {"households": world.users["member"].pk, "budgets": world.users["viewer"].pk}
    params = {
        "id": ids.get(resource, {}).get(variant),
        "user_id": user_id.get(resource),
        "household_id": world.annex.pk,
        "invitation_id": world.invitation.pk,
        "settlement_id": world.settlement.pk,
    }
    for name, value in params.items():
        if "{" + name + "}" in route and value is None:
            raise LookupError(f"path_for() does not know which of A's objects {{{name}}} names in {route}")
    return ROUTES[route].format(**params)


def body_for(world: World, route: str):
    """(data, format, the data as text) for a write that succeeds for an entitled actor;
    (None, None, "") for routes that take no body."""
    today = timezone.localdate().isoformat()
    owner = world.users["owner"]
    transaction_body = {
        "budget": world.shared.pk,
        "category": world.shared_category.pk,
        "kind": "expense",
        "amount": "12.34",
        "date": today,
        "payee": "Corner shop",
    }
    budget_body = {
        "name": "Holiday",
        "amount": "100.00",
        "currency": "EUR",
        "period": "monthly",
        "start_date": "2026-01-01",
    }
    if route == "transactions/import/":
        csv = (
            "date,amount,kind,category,payee,description,notes\n"
            f"{today},5.00,expense,{world.shared_category.name},Imported payee,,\n"
        )
        upload = SimpleUploadedFile("import.csv", csv.encode(), content_type="text/csv")
        return {"budget": world.shared.pk, "file": upload}, "multipart", f"budget={world.shared.pk}\n{csv}"
    bodies = {
        "auth/register/": lambda: {"email": "newcomer.qz0@example.com", "password": "a-fresh-long-pass-42"},
        "auth/token/": lambda: {"email": owner.email, "password": DEFAULT_PASSWORD},
        "auth/token/refresh/": lambda: {"refresh": token_pair_for(owner)["refresh"]},
        "auth/logout/": lambda: {"refresh": token_pair_for(owner)["refresh"]},
        "auth/me/": lambda: {"first_name": "Renamed"},
        "auth/password/": lambda: {"old_password": DEFAULT_PASSWORD, "new_password": "another-long-pass-77"},
        "auth/password/reset/": lambda: {"email": owner.email},
        "auth/password/reset/confirm/": lambda: {
            "token": "never-sent",
            "new_password": "another-long-pass-77",
        },
        "auth/email/verify/": lambda: {"token": "never-sent"},
        "invitations/accept/": lambda: {"token": "never-sent"},
        "invitations/decline/": lambda: {"token": "never-sent"},
        "households/": lambda: {"name": "New home"},
        "households/{id}/": lambda: {"name": "Renamed home"},
        "households/{id}/invitations/": lambda: {"email": "fresh-invitee@example.com", "role": "member"},
        "households/{id}/members/{user_id}/": lambda: {"role": "admin"},
        "households/{id}/settlements/": lambda: {
            "from": owner.pk,
            "to": world.users["editor"].pk,
            "amount": "7.25",
            "currency": "EUR",
            "date": today,
        },
        "budgets/": lambda: budget_body,
        "budgets/{id}/": lambda: {**budget_body, "name": "Renamed budget"},
        "budgets/{id}/shares/users/{user_id}/": lambda: {"permission": "edit"},
        "budgets/{id}/shares/households/{household_id}/": lambda: {"permission": "edit"},
        "categories/": lambda: {"budget": world.shared.pk, "name": "New category", "allocated": "10.00"},
        "categories/{id}/": lambda: {"name": "Renamed category", "allocated": "11.00"},
        "transactions/": lambda: transaction_body,
        "transactions/{id}/": lambda: transaction_body,
        "transactions/bulk/": lambda: [transaction_body],
        "admin/grants/": lambda: {
            "budget": world.shared.pk,
            "user": world.users["member"].pk,
            "permission": "view",
        },
    }
    make = bodies.get(route)
    if make is None:
        return None, None, ""
    data = make()
    return data, "json", json.dumps(data)


def send(world: World, actor: str, route: str, method: str, variant: str = "target"):
    """-> (response, its body bytes, everything the request carried, as text)."""
    client = APIClient()
    bearer = token(world, actor)
    if bearer:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer}")
    path = path_for(world, route, variant)
    kwargs, sent = {}, path
    if method in WRITE_METHODS:
        data, fmt, text = body_for(world, route)
        if data is not None:
            kwargs = {"data": data, "format": fmt}
            sent += text
    response = getattr(client, method.lower())(path, **kwargs)
    return response, _content(response), sent


def _content(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from module_world(django_db_blocker)


# ---------------------------------------------------------------------------------------
# The table against the URL conf (and the schema)


def test_every_route_and_method_has_a_row_and_every_row_a_route():
    cells = {(route, method) for route in ROUTES for method in METHODS}
    missing = sorted(cells - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - cells)
    assert not missing, f"Add rows to server/tests/leak_expectations.py for: {missing}"
    assert not stale, f"Rows in server/tests/leak_expectations.py for routes that are gone: {stale}"
    assert not (OBJECT_ROUTES.keys() - ROUTES.keys()), "OBJECT_ROUTES names a route that is gone"
    assert not (PUBLIC_ROUTES - ROUTES.keys()), "PUBLIC_ROUTES names a route that is gone"
    # Every route with a path parameter is under an object of A's and says who knows it.
    with_params = {route for route in ROUTES if "{" in route}
    assert with_params == set(OBJECT_ROUTES), with_params ^ set(OBJECT_ROUTES)


def test_the_url_conf_enumeration_finds_the_known_routes():
    """The walk itself: it must see the routers' regex routes, not silently skip them."""
    assert ROUTES["budgets/{id}/shares/users/{user_id}/"] == "/api/v1/budgets/{id}/shares/users/{user_id}/"
    assert ROUTES["api/health/"] == "/api/health/"
    assert ROUTES["admin/grants/{id}/"] == "/api/v1/admin/grants/{id}/"
    assert (ROUTES["api/"], ROUTES["api/v1/"]) == ("/api/", "/api/v1/")  # the roots' index,
    assert resolve("/api/").func.view_class is ApiIndexView  # not the catch-all JSON 404
    assert all(template.startswith("/api/") for template in ROUTES.values())  # no admin site, no bench/
    assert len(ROUTES) >= 35


def test_every_schema_operation_is_a_row_someone_can_reach():
    """The OpenAPI schema and the URL conf agree: each documented operation is a table row
    where some signed-in actor gets past routing (not a 405)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        route = _template(path.lstrip("/")).removeprefix("api/v1/")
        assert route in ROUTES, path
        for method in operations:
            if method.upper() not in METHODS:
                continue
            row = EXPECTED[(route, method.upper())]
            signed_in = {status for actor, status in row.items() if actor not in UNAUTHENTICATED}
            assert signed_in != {405}, (path, method)


def test_the_table_never_lets_an_outsider_succeed():
    """The table's own rows obey the invariants the cells check, so a row cannot quietly
    grant a 2xx to someone who has no business getting one."""
    for (route, method), row in EXPECTED.items():
        for actor, status in row.items():
            if not _is_2xx(status):
                continue
            if actor in UNAUTHENTICATED:
                assert route in PUBLIC_ROUTES, (route, method, actor)
            if route in OBJECT_ROUTES and method != "OPTIONS":
                assert actor in OBJECT_ROUTES[route], (route, method, actor)


def matrix_counts() -> dict:
    statuses = Counter(EXPECTED[(route, method)][actor] for route, method, actor in CELLS)
    refusals = sum(n for status, n in statuses.items() if not _is_2xx(status))
    hidden = [c for c in CELLS if c[0] in OBJECT_ROUTES and c[2] not in OBJECT_ROUTES[c[0]]]
    private = [c for c in CELLS if c[0] in PRIVATE_VARIANT_ROUTES and c[2] != "owner"]
    return {
        "hidden_object_comparisons": len(hidden),
        "private_object_comparisons": len(private),
        "routes": len(ROUTES),
        "methods": len(METHODS),
        "actors": len(ACTORS),
        "cells": len(CELLS),
        "refusals": refusals,
        "successes": len(CELLS) - refusals,
        "by_status": dict(sorted(statuses.items())),
    }


# ---------------------------------------------------------------------------------------
# The cells


def _cell_id(cell) -> str:
    route, method, actor = cell
    return f"{route} {method} {actor}"


@pytest.mark.parametrize(("route", "method", "actor"), CELLS, ids=[_cell_id(c) for c in CELLS])
def test_leak_matrix(world, route, method, actor):
    row = EXPECTED.get((route, method))
    assert row is not None, f"{route} {method} has no row in server/tests/leak_expectations.py"
    expected = row[actor]

    response, body, sent = send(world, actor, route, method)
    assert response.status_code == expected, (response.status_code, body[:800])
    succeeded = _is_2xx(response.status_code)

    if succeeded and route not in PUBLIC_ROUTES:
        assert actor not in UNAUTHENTICATED
    if succeeded and route in OBJECT_ROUTES and method != "OPTIONS":
        assert actor in OBJECT_ROUTES[route]
    assert not world.leaks(actor, body, sent), world.leaks(actor, body, sent)
    if succeeded and method == "GET" and response.get("Content-Type", "").startswith("application/json"):
        page = json.loads(body)
        if isinstance(page, dict) and {"count", "results"} <= page.keys():
            # The world is far smaller than a page: a count above the rows shown counts hidden ones.
            assert page["count"] == len(page["results"]), page

    after = tenant_state()
    if not succeeded or method in SAFE_METHODS:
        assert after == world.baseline, "a refused or read-only request changed the database"

    # Every 404 on an object route, and every answer to an actor who may not know the object.
    hidden = route in OBJECT_ROUTES and (actor not in OBJECT_ROUTES[route] or response.status_code == 404)
    private_variant = route in PRIVATE_VARIANT_ROUTES and actor != "owner"
    if not (hidden or private_variant):
        return
    missing, missing_body, _ = send(world, actor, route, method, variant="missing")
    if hidden:
        # The object exists, but for this actor it reads exactly like one that never did.
        assert (response.status_code, body) == (missing.status_code, missing_body)
    if private_variant:
        # So does A's private budget (or its category or transaction), for everyone but A.
        private, private_body, private_sent = send(world, actor, route, method, variant="private")
        assert (private.status_code, private_body) == (missing.status_code, missing_body)
        assert not _is_2xx(private.status_code) or method == "OPTIONS"
        assert not world.leaks(actor, private_body, private_sent)
    assert tenant_state() == after, "a request for a hidden or missing object changed the database"
