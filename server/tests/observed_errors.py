"""Every error the suite sees, checked against the schema: each (route, method, status, code)
that a test client request got back must be documented for that route (its status, and its
code in the documented enum). Recorded by the root conftest's request wrapper; checked once,
when the session ends (a failure fails the run)."""

import re

_PARAM = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")

# (method, path template, status, codes and attrs) -> one response that showed it
_SEEN: dict[tuple, object] = {}


def path_template(pattern: str) -> str:
    """A URL conf pattern as the schema writes it: "/api/v1/budgets/{id}/"."""
    path = _PARAM.sub(lambda m: "{" + (m[1] or m[2]) + "}", pattern)
    return "/" + path.replace("^", "").replace("$", "").replace("{pk}", "{id}")


def record(response) -> None:
    if response.status_code < 400 or not response.get("Content-Type", "").startswith("application/json"):
        return
    request = getattr(response, "wsgi_request", None)
    match = getattr(request, "resolver_match", None)
    if match is None or not request.path.startswith("/api/"):
        return
    try:
        body = response.json()
    except ValueError:
        return
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return
    shape = frozenset((error.get("code"), error.get("attr")) for error in errors if isinstance(error, dict))
    key = (request.method, path_template(match.route), response.status_code, shape)
    _SEEN.setdefault(key, response)


def undocumented() -> list[str]:
    """The errors seen that the schema does not document, one line each."""
    from server.tests.openapi_helpers import api_schema, assert_documented

    paths = set(api_schema().raw_schema["paths"])
    problems = []
    for (method, path, status, shape), response in sorted(_SEEN.items(), key=lambda item: str(item[0])):
        if path not in paths or method.lower() not in api_schema().raw_schema["paths"][path]:
            continue  # the catch-all JSON 404, or a method the route does not have (405)
        try:
            assert_documented(response, method, path)
        except Exception as exc:  # AssertionError, or schemathesis' validation failure
            codes = ", ".join(f"{code}@{attr}" for code, attr in sorted(shape, key=str))
            problems.append(f"{method} {path} {status} [{codes}]: {str(exc).splitlines()[0][:200]}")
    return problems


def seen_count() -> int:
    return len(_SEEN)
