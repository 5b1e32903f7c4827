"""The OpenAPI 3 document: generated without a warning, valid, and complete."""

import re

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from server.api import urls


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def api_operations() -> set[tuple[str, str]]:
    """Every (method, path) the API routes, in OpenAPI's spelling (``{task_id}``)."""
    return {
        (method, "/api/" + re.sub(r"<\w+:(\w+)>", r"{\1}", p.pattern._route))
        for p in urls.urlpatterns
        for method in ("get", "post", "put", "patch", "delete")
        if hasattr(p.callback.view_class, method)
    }


def test_the_schema_command_validates_with_no_warning(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    document = yaml.safe_load(out.read_text())
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "Propflow API"


def test_every_api_operation_is_documented_once_with_its_own_id(schema):
    validate_schema(schema)
    documented = {
        (method, path) for path, operations in schema["paths"].items() for method in operations
    }
    assert documented == api_operations()
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) == len(api_operations())


def test_each_operation_has_a_summary_a_tag_a_typed_answer_and_its_errors(schema):
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("tags"), where
            ok = next(code for code in op["responses"] if code.startswith("2"))
            content = op["responses"][ok].get("content", {})
            if content and "application/json" not in content:  # bytes: a package, a file
                assert {c["schema"]["format"] for c in content.values()} == {"binary"}, where
            elif ok != "204":
                assert "$ref" in str(content["application/json"]), where
            errors = {code for code in op["responses"] if code[0] in "45"}
            for code in errors:
                ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                # A refused package lists its problems by file, line and element instead.
                refused = (where, code) == ("POST /api/processes/", "400")
                assert ref == ("#/components/schemas/PackageRefused" if refused
                               else "#/components/schemas/Error"), where  # fmt: skip
            if path != "/api/auth/token/":
                assert "401" in errors, where
            if "{" in path:
                assert "404" in errors, where
            if op.get("requestBody"):
                assert "400" in errors, where


def test_paths_query_parameters_and_pages_are_described(schema):
    paths = schema["paths"]
    task_id = paths["/api/tasks/{task_id}/assign/"]["post"]["parameters"][0]
    assert (task_id["in"], task_id["schema"]) == ("path", {"type": "string", "format": "uuid"})
    case_id = paths["/api/instances/{instance_id}/"]["get"]["parameters"][0]
    assert case_id["schema"] == {
        "type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1
    }  # fmt: skip
    tasks = {p["name"]: p for p in paths["/api/tasks/"]["get"]["parameters"]}
    assert set(tasks) == {"scope", "process", "unit", "overdue", "q", "page", "page_size"}
    assert tasks["scope"]["schema"]["enum"] == ["all", "available", "inbox", "mine"]
    assert tasks["overdue"]["schema"]["type"] == "boolean"
    cases = {p["name"] for p in paths["/api/instances/"]["get"]["parameters"]}
    assert cases == {"process", "status", "q", "page", "page_size"}

    components = schema["components"]["schemas"]
    assert set(components["TaskPage"]["properties"]) == {"count", "page", "pages", "results"}
    task = components["Task"]["properties"]
    assert {"process_name", "escalation_level", "overdue"} <= set(task)
    assert set(components["AssignRequest"]["properties"]) == {"assignee"}
    assert set(components["Error"]["properties"]) == {"detail", "errors"}
    assert components["Error"]["required"] == ["detail"]


def test_the_schema_and_the_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/tasks/{task_id}/assign/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
