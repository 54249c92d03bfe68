"""Does a response match what the OpenAPI schema documents for its operation and status?

Regression tests for schema defects (an error code, an attr or a status the schema did not
list) send the request that produced the defect and pass the response through here.
"""

import functools
import json

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer


@functools.cache
def api_schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))


def assert_documented(response, method: str, path: str) -> None:
    """``response`` (a Django test client response to ``method path``, path as in the schema,
    e.g. "/api/v1/budgets/{id}/") has a documented status, and its body and content type match
    the schema given for that status."""
    operation = api_schema()[path][method.upper()]
    documented = operation.responses.find_by_status_code(response.status_code)
    assert documented is not None, f"{method.upper()} {path} does not document {response.status_code}"
    wire = schemathesis.Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.items()},
        content=response.content,
        request=requests.Request(method.upper(), f"http://testserver{response.wsgi_request.path}").prepare(),
        elapsed=0.0,
        verify=True,
    )
    operation.validate_response(wire)
