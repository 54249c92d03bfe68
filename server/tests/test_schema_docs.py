"""The schema as documentation: every operation says what it does in its own words, the tags
read in order, money filters are decimal strings, the non-obvious bodies have examples, and
the error components are shared rather than repeated per operation."""

import json
from collections import Counter

import pytest
from django.test import Client

from server import openapi
from server.openapi import is_error_component

TRANSACTIONS = "/api/v1/transactions/"


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    return {
        f"{method.upper()} {path}": operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def request_examples(schema, path, method, media_type="application/json"):
    content = schema["paths"][path][method]["requestBody"]["content"][media_type]
    return [example["value"] for example in content.get("examples", {}).values()]


# --- summaries and descriptions ------------------------------------------------------------


def test_every_operation_has_a_summary_and_a_description(schema):
    missing = [
        f"{where} {key}"
        for where, operation in operations(schema).items()
        for key in ("summary", "description")
        if not (operation.get(key) or "").strip()
    ]
    assert missing == []


def test_summaries_are_written_not_derived_from_the_path(schema):
    summaries = [operation["summary"] for operation in operations(schema).values()]
    assert [s for s, n in Counter(summaries).items() if n > 1] == []
    assert [s for s in summaries if "/" in s or "{" in s or "_" in s or len(s) > 60] == []
    assert all(s[0].isupper() for s in summaries)


def test_no_two_operations_share_a_description(schema):
    by_text: dict[str, list[str]] = {}
    for where, operation in operations(schema).items():
        by_text.setdefault(operation["description"], []).append(where)
    assert [places for places in by_text.values() if len(places) > 1] == []


def test_creating_a_transaction_is_described_apart_from_listing_them(schema):
    listing = schema["paths"][TRANSACTIONS]["get"]
    creating = schema["paths"][TRANSACTIONS]["post"]
    assert listing["summary"] == "List transactions"
    assert creating["summary"] == "Create a transaction"
    assert creating["description"] != listing["description"]
    assert "budget you can edit" in creating["description"]


def test_a_missing_summary_or_a_repeated_description_is_a_warning(monkeypatch):
    """The hook is what makes ``spectacular --fail-on-warn`` (and so CI) refuse an
    undocumented operation, or a viewset docstring standing in for every action's text."""
    warnings = []
    monkeypatch.setattr(openapi, "warn", warnings.append)
    result = {
        "paths": {
            "/things/": {
                "get": {"operationId": "things_list", "summary": "List things", "description": "Things."},
                "post": {"operationId": "things_create", "description": "Things."},
            },
            "/things/{id}/": {"get": {"operationId": "things_retrieve", "summary": "Get a thing"}},
        }
    }
    openapi.postprocess_require_operation_docs(result, None, None, True)
    assert warnings == [
        "POST /things/ has no summary: give it one with extend_schema(summary=...)",
        "POST /things/ repeats the description of GET /things/: give it its own",
        "GET /things/{id}/ has no description: give it one with extend_schema(description=...)",
    ]


# --- tags ----------------------------------------------------------------------------------


def test_tags_are_described_in_order_with_auth_first(schema):
    tags = schema["tags"]
    names = [tag["name"] for tag in tags]
    assert names[0] == "auth"
    assert names.index("households") < names.index("budgets") < names.index("transactions")
    assert names[-1] == "health"
    assert [tag["name"] for tag in tags if len(tag.get("description", "")) < 20] == []


def test_every_operation_uses_a_declared_tag(schema):
    declared = {tag["name"] for tag in schema["tags"]}
    used = {tag for operation in operations(schema).values() for tag in operation["tags"]}
    assert used == declared
    assert schema["paths"]["/api/v1/budgets/{id}/summary/"]["get"]["tags"] == ["reports"]


# --- money filters -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [TRANSACTIONS, "/api/v1/transactions/export/"])
def test_amount_bounds_are_documented_as_decimal_strings(schema, path):
    parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
    for name in ("amount_min", "amount_max"):
        assert parameters[name]["schema"]["type"] == "string"
        assert parameters[name]["schema"]["format"] == "decimal"
        assert parameters[name]["description"]


@pytest.mark.django_db
def test_ordering_documents_the_empty_key_the_filter_skips(schema, api):
    (ordering,) = [p for p in schema["paths"][TRANSACTIONS]["get"]["parameters"] if p["name"] == "ordering"]
    assert "" in ordering["schema"]["items"]["enum"]
    assert "date" in ordering["description"]
    assert api.get(TRANSACTIONS, {"ordering": "date,"}).status_code == 200
    assert api.get(TRANSACTIONS, {"ordering": "payee"}).status_code == 400


# --- examples ------------------------------------------------------------------------------


def test_creating_a_transaction_has_a_realistic_example(schema):
    (example,) = request_examples(schema, TRANSACTIONS, "post")
    assert example["budget"] > 0
    assert example["amount"] == "12.30"
    assert example["kind"] in ("expense", "income")
    assert example["date"]


def test_bulk_example_is_a_bare_list_of_transactions(schema):
    (example,) = request_examples(schema, "/api/v1/transactions/bulk/", "post")
    assert isinstance(example, list) and example
    for item in example:
        assert item["budget"] > 0
        assert isinstance(item["amount"], str)


def test_import_example_is_a_multipart_form_with_a_csv_file(schema):
    operation = schema["paths"]["/api/v1/transactions/import/"]["post"]
    (example,) = request_examples(schema, "/api/v1/transactions/import/", "post", "multipart/form-data")
    assert set(example) == {"file", "budget", "dry_run", "create_categories"}
    header = "date,amount,kind,category,payee,description,notes"
    assert example["file"].startswith(header + "\n")
    assert header in operation["description"]  # the CSV snippet shows in the docs too


@pytest.mark.parametrize("grantee", ["users/{user_id}", "households/{household_id}"])
def test_share_puts_show_both_levels(schema, grantee):
    examples = request_examples(schema, f"/api/v1/budgets/{{id}}/shares/{grantee}/", "put")
    assert examples == [{"permission": "view"}, {"permission": "edit"}]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/households/{id}/invitations/", "email"),
        ("/api/v1/invitations/accept/", "token"),
        ("/api/v1/admin/grants/", "permission"),
        ("/api/v1/auth/token/", "password"),
    ],
)
def test_other_non_obvious_bodies_have_examples(schema, path, field):
    examples = request_examples(schema, path, "post")
    assert examples
    assert all(field in example for example in examples)


# --- error components ----------------------------------------------------------------------


def _components(schema):
    schemas = schema["components"]["schemas"]
    prefixes = openapi._operation_prefixes(schema)
    errors = [name for name in schemas if is_error_component(name, prefixes)]
    models = [name for name in schemas if name not in errors]
    return schemas, errors, models


def test_no_two_error_components_are_the_same(schema):
    schemas, errors, _ = _components(schema)
    bodies = Counter(json.dumps(schemas[name], sort_keys=True) for name in errors)
    assert [body[:200] for body, n in bodies.items() if n > 1] == []


def test_shared_error_components_replace_per_operation_copies(schema):
    schemas, errors, models = _components(schema)
    # One pagination error each, for every paginated list, instead of one per list.
    assert "LimitErrorComponent" in schemas and "OffsetErrorComponent" in schemas
    assert [
        name for name in errors if name.endswith(("ListLimitErrorComponent", "ListOffsetErrorComponent"))
    ] == []
    # Before the merge: 488 components, 425 of them errors. Fewer than 4 per model now.
    assert len(errors) < 4 * len(models)
    # Issue 17 (shared costs) added 13 models and their operations' errors: 364 in all then.
    # Issue 18 (history and sync): 12 models and five operations' errors, 395.
    assert len(schemas) < 410


def test_the_schemas_section_lists_models_before_errors(schema):
    schemas, _, models = _components(schema)
    assert list(schemas)[: len(models)] == models
    assert "Transaction" in models and "ImportResult" in models


def test_merging_keeps_each_fields_codes_apart():
    def field(attr, *codes):
        return {
            "type": "object",
            "properties": {"attr": {"enum": [attr]}, "code": {"enum": list(codes)}},
        }

    def union(*members):
        return {"oneOf": [{"$ref": f"#/components/schemas/{m}"} for m in members]}

    result = {
        "paths": {
            "/a/": {"get": {"operationId": "a_list"}, "post": {"operationId": "a_create"}},
            "/b/": {"get": {"operationId": "b_list"}},
        },
        "components": {
            "schemas": {
                "A": {"type": "object"},
                "AListLimitErrorComponent": field("limit", "invalid"),
                "BListLimitErrorComponent": field("limit", "invalid"),
                "ACreateNameErrorComponent": field("name", "blank"),
                "AListNameErrorComponent": field("name", "blank", "unique"),
                "AListError": union("AListLimitErrorComponent"),
                "BListError": union("BListLimitErrorComponent"),
            }
        },
    }
    merged = openapi.postprocess_merge_error_components(result, None, None, True)
    schemas = merged["components"]["schemas"]
    assert list(schemas) == [
        "A",
        "ACreateNameErrorComponent",
        "AListError",
        "AListNameErrorComponent",
        "LimitErrorComponent",
    ]
    # The unions merged once their members had, and point at the shared member.
    assert schemas["AListError"] == union("LimitErrorComponent")
    assert schemas["AListNameErrorComponent"]["properties"]["code"]["enum"] == ["blank", "unique"]
