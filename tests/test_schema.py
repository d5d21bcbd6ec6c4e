"""The OpenAPI schema: valid, complete, with its security schemes and error responses."""

from __future__ import annotations

import pytest
import yaml
from drf_spectacular.validation import validate_schema

ENDPOINTS = {
    "/api/token/": ["post"],
    "/api/token/extend/": ["post"],
    "/api/token/refresh/": ["post"],
    "/api/token/logout/": ["post"],
    "/api/token/logout-all/": ["post"],
    "/api/token/revoke/": ["post"],
    "/api/token/introspect/": ["post"],
    "/api/password/change/": ["post"],
    "/api/devices/": ["get"],
    "/api/devices/{device_id}/": ["get", "delete"],
    "/api/me/": ["get"],
    "/.well-known/jwks.json": ["get"],
}


@pytest.fixture
def schema(api, db):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_every_endpoint_is_described(schema):
    assert {path: sorted(ops) for path, ops in schema["paths"].items()} == {
        path: sorted(methods) for path, methods in ENDPOINTS.items()
    }


def test_security_schemes_are_declared(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["cookieAuth"]["in"] == "cookie"
    assert schema["paths"]["/api/me/"]["get"]["security"] == [
        {"bearerAuth": []},
        {"cookieAuth": []},
    ]
    assert schema["paths"]["/api/token/introspect/"]["post"]["security"] == [{"basicAuth": []}]


def test_error_responses_use_the_one_error_shape(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        if path == "/.well-known/jwks.json":
            continue
        for method, operation in operations.items():
            codes = [code for code in operation["responses"] if code.startswith("4")]
            assert codes, f"{method} {path} documents no error"
            for code in codes:
                body = operation["responses"][code]["content"]["application/json"]["schema"]
                assert body == error, (method, path, code)
