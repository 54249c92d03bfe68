"""docs/requests.http (issue 19): every request in the collection is an operation of the
OpenAPI schema, with documented query parameters and a JSON body of the documented shape, and
the whole file, sent from top to bottom against the demo data, succeeds request by request.

A renamed route, a renamed filter or body field, or a first session that no longer works
breaks one of these tests, not the reader of the file."""

import functools
import json
import re
import uuid
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from server.tests.openapi_helpers import assert_documented

COLLECTION = Path(settings.BASE_DIR) / "docs" / "requests.http"
HOST = "http://127.0.0.1:8000"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

# What a first session covers (issue 19): dropping one from the file fails the test.
FIRST_SESSION = {
    ("POST", "/api/v1/auth/token/"),
    ("GET", "/api/v1/auth/me/"),
    ("GET", "/api/v1/households/"),
    ("POST", "/api/v1/households/"),
    ("GET", "/api/v1/budgets/"),
    ("POST", "/api/v1/budgets/"),
    ("GET", "/api/v1/transactions/"),
    ("POST", "/api/v1/transactions/"),
    ("POST", "/api/v1/transactions/bulk/"),
    ("GET", "/api/v1/transactions/export/"),
    ("GET", "/api/v1/budgets/{id}/summary/"),
    ("GET", "/api/v1/budgets/{id}/report/monthly/"),
    ("PUT", "/api/v1/budgets/{id}/shares/households/{household_id}/"),
    ("POST", "/api/v1/households/{id}/invitations/"),
    ("POST", "/api/v1/invitations/{id}/accept/"),
}

_VARIABLE = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
_FILE_VARIABLE = re.compile(r"^@(\w+)\s*=\s*(.*)$")
_NAME = re.compile(r"^(?:#|//)\s*@name\s+(\w+)\s*$")
_RESPONSE_REF = re.compile(r"^(\w+)\.response\.body\.(\$.*)$")


# ---------------------------------------------------------------------------------------
# The .http format (VS Code REST Client; JetBrains' HTTP Client reads the same requests)


@dataclass
class HttpRequest:
    line: int  # 1-based, for messages
    method: str
    url: str
    name: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def parse_collection(text: str) -> tuple[dict[str, str], list[HttpRequest]]:
    """-> (file variables, requests in order). Blocks are separated by lines starting with
    ###; in a block, `@var = value` lines, `# @name x`, comments, then the request line,
    headers, a blank line and the body."""
    variables: dict[str, str] = {}
    requests: list[HttpRequest] = []
    current: HttpRequest | None = None
    in_body = False
    name = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if line.startswith("###"):
            current, in_body, name = None, False, None
            continue
        if current is None:
            if match := _FILE_VARIABLE.match(line):
                assert match[1] not in variables, f"line {number}: @{match[1]} defined twice"
                variables[match[1]] = match[2]
            elif match := _NAME.match(line):
                name = match[1]
            elif line and not line.startswith(("#", "//")):
                method, _, rest = line.partition(" ")
                assert method in METHODS, f"line {number}: not a request line: {line!r}"
                url = rest.removesuffix(" HTTP/1.1").strip()
                current = HttpRequest(line=number, method=method, url=url, name=name)
                requests.append(current)
            continue
        if not in_body:
            if not line:
                in_body = True
            else:
                header, sep, value = line.partition(":")
                assert sep, f"line {number}: not a header: {line!r}"
                current.headers[header.strip()] = value.strip()
            continue
        current.body += raw + "\n"
    for request in requests:
        request.body = request.body.strip()
    return variables, requests


@functools.cache
def collection() -> tuple[dict[str, str], list[HttpRequest]]:
    return parse_collection(COLLECTION.read_text())


def expand(text: str, variables: dict[str, str], resolve) -> str:
    """Replaces {{var}} by the file variable's value (itself expanded), and anything else
    (request variables, {{$guid}}) by resolve(reference)."""

    def one(match):
        reference = match[1]
        if reference in variables:
            return expand(variables[reference], variables, resolve)
        return resolve(reference)

    return _VARIABLE.sub(one, text)


# ---------------------------------------------------------------------------------------
# The schema


@functools.cache
def schema() -> dict:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


def _shape(path: str) -> str:
    return re.sub(r"\{[^}/]+\}", "{}", path)


def schema_path(path: str) -> str:
    """The schema's template for a path whose parameters are {name}s ("/api/v1/budgets/{id}/")."""
    wanted = _shape(path)
    matches = [template for template in schema()["paths"] if _shape(template) == wanted]
    assert len(matches) == 1, f"{path} is no route of the schema"
    return matches[0]


def component(reference: str) -> dict:
    return schema()["components"]["schemas"][reference.rsplit("/", 1)[1]]


def placeholder(reference: str) -> str:
    """A stand-in for a value only known when the requests run: ids are numbers."""
    if reference == "$guid":
        return str(uuid.uuid4())
    return "1" if reference.endswith("id") else "placeholder"


def static_view(request: HttpRequest) -> tuple[str, str, dict[str, str], str]:
    """(schema path, method, query, body) with every variable standing for a placeholder.
    A path segment that is a variable stands for a path parameter."""
    variables, _ = collection()
    url = expand(request.url, variables, lambda ref: "{" + ref + "}")
    assert url.startswith(HOST), f"line {request.line}: {url} is not under {{{{host}}}}"
    parts = urlsplit(url.removeprefix(HOST))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    body = expand(request.body, variables, placeholder)
    return schema_path(parts.path), request.method.lower(), query, body


# ---------------------------------------------------------------------------------------
# Static checks


def test_the_collection_parses_into_the_first_session():
    _, requests = collection()
    assert len(requests) >= len(FIRST_SESSION)
    covered = {(method.upper(), path) for path, method, _, _ in map(static_view, requests)}
    assert covered >= FIRST_SESSION, f"missing from docs/requests.http: {FIRST_SESSION - covered}"


@pytest.mark.parametrize("request_", collection()[1], ids=lambda r: f"line{r.line}-{r.method}")
def test_each_request_is_a_documented_operation(request_):
    path, method, query, body = static_view(request_)
    operation = schema()["paths"][path].get(method)
    assert operation is not None, f"line {request_.line}: {method.upper()} {path} is not in the schema"

    documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    assert set(query) <= documented, f"line {request_.line}: undocumented query {set(query) - documented}"

    needs_token = bool(operation.get("security")) and {} not in operation["security"]
    assert ("Authorization" in request_.headers) == needs_token, f"line {request_.line}: Authorization"

    content = operation.get("requestBody", {}).get("content", {})
    if not body:
        assert not operation.get("requestBody", {}).get("required"), f"line {request_.line}: body missing"
        return
    assert request_.headers.get("Content-Type") == "application/json"
    assert "application/json" in content, f"line {request_.line}: {path} takes no JSON body"
    sent = json.loads(body)  # a body that is not JSON fails here
    documented_body = content["application/json"]["schema"]
    items = [sent] if documented_body.get("type") != "array" else sent
    item_schema = documented_body.get("items", documented_body)
    item_schema = component(item_schema["$ref"]) if "$ref" in item_schema else item_schema
    for item in items:
        assert set(item) <= set(item_schema["properties"]), f"line {request_.line}: unknown fields"
        assert set(item_schema.get("required", [])) <= set(item), f"line {request_.line}: missing fields"


def references(text: str, variables: dict[str, str]) -> set[str]:
    """What text needs beyond the file variables it uses (themselves followed)."""
    found: set[str] = set()
    for reference in _VARIABLE.findall(text):
        found |= references(variables[reference], variables) if reference in variables else {reference}
    return found


def test_every_reference_names_a_request_sent_before():
    variables, requests = collection()
    sent_before: set[str] = set()
    for request in requests:
        text = "\n".join([request.url, *request.headers.values(), request.body])
        for reference in references(text, variables) - {"$guid"}:
            match = _RESPONSE_REF.match(reference)
            assert match, f"line {request.line}: {{{{{reference}}}}} is not defined"
            assert match[1] in sent_before, f"line {request.line}: {match[1]} is not a request before it"
        if request.name:
            assert request.name not in sent_before, f"line {request.line}: @name {request.name} twice"
            sent_before.add(request.name)


def test_the_route_check_fails_for_a_renamed_route():
    """The checks above can fail: a path the schema does not have is refused."""
    _, requests = parse_collection("@host = http://127.0.0.1:8000\n###\nGET {{host}}/api/v1/budget/\n")
    with pytest.raises(AssertionError, match="is no route of the schema"):
        static_view(requests[0])


# ---------------------------------------------------------------------------------------
# The whole file, sent in order against the demo data


def json_path(document, path: str):
    """The subset of JSONPath the file uses: $.a.b and $.results[0].id."""
    value = document
    for key, index in re.findall(r"\.(\w+)|\[(\d+)\]", path.removeprefix("$")):
        value = value[key] if key else value[int(index)]
    return value


@pytest.mark.django_db
def test_the_collection_runs_from_top_to_bottom_against_the_demo_data():
    call_command("seed_demo", allow_without_debug=True, stdout=StringIO())
    variables, requests = collection()
    answers: dict[str, object] = {}

    def resolve(reference: str) -> str:
        if reference == "$guid":
            return str(uuid.uuid4())
        match = _RESPONSE_REF.match(reference)
        assert match and match[1] in answers, f"{{{{{reference}}}}} used before its request ran"
        return str(json_path(answers[match[1]], match[2]))

    client = Client()
    for request in requests:
        url = expand(request.url, variables, resolve).removeprefix(HOST)
        headers = {name: expand(value, variables, resolve) for name, value in request.headers.items()}
        content_type = headers.pop("Content-Type", None)
        body = expand(request.body, variables, resolve)
        response = client.generic(
            request.method, url, data=body.encode(), content_type=content_type, headers=headers
        )
        assert 200 <= response.status_code < 300, (
            f"line {request.line}: {request.method} {url} -> {response.status_code} "
            f"{b'' if response.streaming else response.content!r}"
        )
        if response.streaming:
            assert response["Content-Type"].startswith("text/csv")
            assert b"".join(response.streaming_content).count(b"\n") == 4  # a header, 3 transactions
            continue
        assert_documented(response, request.method, static_view(request)[0])
        if request.name:
            answers[request.name] = response.json()

    # The story the file tells happened: Dave is a member of Alice's new household and sees
    # her new budget, with the three transactions recorded.
    last = response.json()
    assert last["id"] == answers["budget"]["id"]
    assert last["name"] == "Weekly shop"
    from transactions.models import Transaction

    assert Transaction.objects.filter(budget_id=last["id"]).count() == 3
