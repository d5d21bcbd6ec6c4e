"""The OpenAPI schema: valid, complete, with its security schemes and error responses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from drf_spectacular.validation import validate_schema

ROOT = Path(__file__).resolve().parents[1]
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
    assert {key: schemes["basicAuth"][key] for key in ("type", "scheme")} == {
        "type": "http",
        "scheme": "basic",
    }
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


@pytest.mark.parametrize(
    "spectacular_settings",
    [
        pytest.param(None, id="the-demo"),
        pytest.param("SPECTACULAR_SETTINGS = {}", id="no-spectacular-settings"),
    ],
)
def test_manage_py_spectacular_validates_with_no_warning(tmp_path, spectacular_settings):
    """What a project's CI may run; the app must not need the project's SPECTACULAR_SETTINGS
    (enum names, the introspection clients' basicAuth scheme) to pass it."""
    # DEBUG=1: the demo's development SECRET_KEY, as `make run` starts it.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "DEBUG": "1"}
    if spectacular_settings is not None:
        (tmp_path / "bare_settings.py").write_text(
            f"from project.settings import *  # noqa: F403\n{spectacular_settings}\n"
        )
        env |= {"DJANGO_SETTINGS_MODULE": "bare_settings", "PYTHONPATH": str(tmp_path)}
    out = tmp_path / "schema.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"]
        + ["--file", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    schema = yaml.safe_load(out.read_text())
    assert schema["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"
    assert schema["paths"]["/api/token/introspect/"]["post"]["security"] == [{"basicAuth": []}]
