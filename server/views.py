from django.db import DatabaseError, connection
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


class ApiNotFoundView(APIView):
    """Catch-all for unknown /api/ paths: the standard JSON 404, whatever the method."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    schema = None

    def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.request = self.initialize_request(request, *args, **kwargs)
        self.headers = self.default_response_headers
        response = self.handle_exception(NotFound())
        self.response = self.finalize_response(self.request, response, *args, **kwargs)
        return self.response


def server_error(request, *args, **kwargs):
    """handler500: JSON for API clients, Django's plain page elsewhere."""
    if is_api_path(request.path_info):
        return server_error_response()
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request, *args, **kwargs)
