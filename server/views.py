from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError, connection
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from server.errors import server_error_response
from server.exceptions import ServiceUnavailable
from server.middleware import is_api_path
from server.openapi import ErrorResponse503Serializer


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated once per process for each language and version: the
    same for every caller (SERVE_PUBLIC), and generating it costs seconds of CPU, which an
    anonymous GET should not be able to ask for again and again. A settings change (tests)
    empties the cache; an unknown ``lang`` or ``version`` is generated, not kept."""

    _generated: dict = {}

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        language = translation.get_language()
        languages = {settings.LANGUAGE_CODE, *dict(settings.LANGUAGES)}
        known = language in languages and version in (None, *self._allowed_versions())
        key = (version, language, self.serve_public)
        schema = self._generated.get(key) if known else None
        if schema is None:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            schema = generator.get_schema(request=request, public=self.serve_public)
            if known:
                self._generated[key] = schema
        return Response(
            data=schema,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )

    @staticmethod
    def _allowed_versions():
        from rest_framework.settings import api_settings

        return api_settings.ALLOWED_VERSIONS or ()


def _forget_generated_schemas(**kwargs) -> None:
    SchemaView._generated.clear()


setting_changed.connect(_forget_generated_schemas)


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
