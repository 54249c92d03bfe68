"""Where an API request's time goes, phase by phase (issue 20): each request runs in-process
through Django's WSGI handler, as gunicorn would call it, with the framework's and the
project's entry points wrapped in clocks.

A clock keeps self time: a phase's time minus the phases that ran inside it, so the phases
of one request add up to its whole time. "database" is every statement's round trip
wherever it was issued (authentication's user query included); "view" is the view's own
code once its filtering, pagination and serializers are taken out; "django handler" is the
request and response objects, URL resolving and Django's middleware chain between the
middleware themselves.

Only for measuring: the wrappers cost a few microseconds each, so the totals run a little
over the untimed request. Used by `manage.py profile_phases`.
"""

import functools
import io
import time
from collections import defaultdict
from contextlib import contextmanager

from django.conf import settings
from django.utils.module_loading import import_string


class PhaseClock:
    def __init__(self):
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[list] = []  # [name, started, time of the phases inside]

    @contextmanager
    def phase(self, name: str):
        frame = [name, time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            spent = time.perf_counter() - frame[1]
            self.totals[name] += spent - frame[2]
            if self._stack:
                self._stack[-1][2] += spent

    def reset(self) -> dict[str, float]:
        totals, self.totals = dict(self.totals), defaultdict(float)
        return totals


CLOCK = PhaseClock()


def _timed(function, name: str):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with CLOCK.phase(name):
            return function(*args, **kwargs)

    wrapper.__phase_original__ = function
    return wrapper


_MISSING = object()
_WRAPPED: list[tuple[object, str, object]] = []  # (owner, attribute, its own value before)


def _wrap(owner, attribute: str, name: str) -> None:
    own = owner.__dict__.get(attribute, _MISSING)
    current = getattr(owner, attribute) if own is _MISSING else own  # inherited: wrap here only
    if isinstance(current, property):
        if hasattr(current.fget, "__phase_original__"):
            return
        setattr(owner, attribute, property(_timed(current.fget, name)))
    elif hasattr(current, "__phase_original__"):
        return
    else:
        setattr(owner, attribute, _timed(current, name))
    _WRAPPED.append((owner, attribute, own))


def uninstrument() -> None:
    """Puts every wrapped attribute back as it was."""
    while _WRAPPED:
        owner, attribute, own = _WRAPPED.pop()
        if own is _MISSING:
            delattr(owner, attribute)
        else:
            setattr(owner, attribute, own)


def instrument() -> None:
    """Wraps the phases (a second call changes nothing); uninstrument() undoes it. Call it
    before the WSGI handler is built: the handler keeps the middleware's hooks it finds."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db.backends.utils import CursorWrapper
    from django.urls.resolvers import URLResolver
    from rest_framework import generics, serializers, views
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    for path in settings.MIDDLEWARE:
        middleware = import_string(path)
        label = f"middleware: {middleware.__name__}"
        for hook in ("__call__", "process_request", "process_view", "process_response", "process_exception"):
            if hasattr(middleware, hook):
                _wrap(middleware, hook, label)
    _wrap(WSGIHandler, "__call__", "django handler")
    _wrap(URLResolver, "resolve", "django handler")
    for method in ("execute", "executemany"):
        _wrap(CursorWrapper, method, "database")
    _wrap(Request, "_authenticate", "authentication")
    _wrap(Request, "_parse", "request parsing")
    _wrap(views.APIView, "dispatch", "view")
    _wrap(views.APIView, "initialize_request", "view setup (DRF)")
    _wrap(views.APIView, "perform_content_negotiation", "view setup (DRF)")
    _wrap(views.APIView, "determine_version", "view setup (DRF)")
    _wrap(views.APIView, "check_permissions", "permissions")
    _wrap(views.APIView, "check_object_permissions", "permissions")
    _wrap(views.APIView, "check_throttles", "throttling")
    _wrap(views.APIView, "finalize_response", "response (DRF)")
    _wrap(views.APIView, "handle_exception", "exception handling")
    _wrap(generics.GenericAPIView, "filter_queryset", "filtering")
    _wrap(generics.GenericAPIView, "paginate_queryset", "pagination")
    _wrap(generics.GenericAPIView, "get_paginated_response", "pagination")
    _wrap(serializers.BaseSerializer, "is_valid", "serializer: validation")
    for serializer in (serializers.Serializer, serializers.ListSerializer):
        _wrap(serializer, "data", "serializer: output")
    for renderer in api_settings.DEFAULT_RENDERER_CLASSES:
        _wrap(renderer, "render", "rendering")


class _Response:
    def __init__(self):
        self.status = None

    def __call__(self, status, headers, exc_info=None):
        self.status = int(status.split()[0])


def environ_for(method: str, path: str, *, token: str | None, body: bytes = b"", headers=None) -> dict:
    """The WSGI environ of one API request, as gunicorn would hand it to Django."""
    path_info, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "application/json",
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def call(handler, method: str, path: str, *, token: str | None, body: bytes = b"", headers=None) -> int:
    """One request through the WSGI handler; its status."""
    environ = environ_for(method, path, token=token, body=body, headers=headers)
    answer = _Response()
    response = handler(environ, answer)
    for _chunk in response:
        pass
    response.close()
    return answer.status
