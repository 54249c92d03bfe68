from django.db import DatabaseError, connection
from django.urls import Resolver404, resolve, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from server.errors import server_error_response
from server.exceptions import ServiceUnavailable
from server.middleware import is_api_path
from server.openapi import ErrorResponse503Serializer


class HealthView(APIView):
    """Liveness and database reachability, for load balancers. No auth, no data."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        operation_id="health",
        summary="Check health",
        description="Liveness and database reachability, for load balancers: 200 when the "
        "database answers, 503 `database_unavailable` when it does not. No auth, no data.",
        tags=["health"],
        responses={
            200: inline_serializer(
                "Health",
                fields={
                    # Plain strings, not one-value enums: an enum named after a field as common
                    # as "status" would collide with every other app's "status" choices.
                    "status": serializers.CharField(help_text='Always "ok"; a failure is a 503.'),
                    "database": serializers.CharField(help_text='Always "ok"; a failure is a 503.'),
                },
            ),
            503: ErrorResponse503Serializer,
        },
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError:
            raise ServiceUnavailable("The database cannot be reached.", code="database_unavailable") from None
        return Response({"status": "ok", "database": "ok"})


class ApiIndexView(APIView):
    """/api/ and /api/v1/: where to go from here (not an operation of the schema)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    schema = None

    def get(self, request):
        return Response(
            {
                "docs": request.build_absolute_uri(reverse("docs")),
                "schema": request.build_absolute_uri(reverse("schema")),
                "api": request.build_absolute_uri("/api/v1/"),
                "token": request.build_absolute_uri(reverse("auth-token")),
                "health": request.build_absolute_uri(reverse("health")),
            }
        )


def _with_slash(path: str) -> str | None:
    """``path`` + "/" if that is a route of the API (a client that left the slash out)."""
    if path.endswith("/"):
        return None
    try:
        match = resolve(f"{path}/")
    except Resolver404:
        return None
    return None if getattr(match.func, "view_class", None) is ApiNotFoundView else f"{path}/"


class ApiNotFoundView(APIView):
    """Catch-all for unknown /api/ paths: the standard JSON 404, whatever the method; a
    path that is a route once its trailing slash is added says so (the routes are public,
    so the hint tells nothing about anyone's data)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    schema = None

    def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.request = self.initialize_request(request, *args, **kwargs)
        self.headers = self.default_response_headers
        hint = _with_slash(request.path_info)
        error = NotFound(f"Not found. Did you mean {hint} (with the trailing slash)?") if hint else NotFound()
        response = self.handle_exception(error)
        self.response = self.finalize_response(self.request, response, *args, **kwargs)
        return self.response


def server_error(request, *args, **kwargs):
    """handler500: JSON for API clients, Django's plain page elsewhere."""
    if is_api_path(request.path_info):
        return server_error_response()
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request, *args, **kwargs)
