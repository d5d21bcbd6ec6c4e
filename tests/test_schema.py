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


# Documented against rendered: every answer the API gives, through the serializers that render
# it, compared with the schema's description of that answer. A field documented and never sent
# (introspection's old "username") or sent and not documented (its "client_id") fails here.


def component(schema, node):
    """Resolve ``node`` to (name, definition), through $ref and nullable wrappers."""
    for wrapper in ("allOf", "oneOf", "anyOf"):
        if wrapper in node:
            node = next(part for part in node[wrapper] if "$ref" in part)
    if "$ref" not in node:
        return None, node
    name = node["$ref"].rsplit("/", 1)[1]
    return name, schema["components"]["schemas"][name]


class Rendered:
    """The keys each documented object was rendered with, by component name."""

    def __init__(self, schema):
        self.schema, self.keys = schema, {}

    def record(self, value, node):
        name, definition = component(self.schema, node)
        if definition.get("type") == "array":
            for item in value:
                self.record(item, definition["items"])
        elif name and isinstance(value, dict):
            properties = definition.get("properties", {})
            assert set(value) <= set(properties), (name, set(value) - set(properties))
            assert set(definition.get("required", [])) <= set(value), (name, value)
            self.keys.setdefault(name, []).append(set(value))
            for key, item in value.items():
                if item is not None:
                    self.record(item, properties[key])

    def answer(self, response, path, method):
        operation = self.schema["paths"][path][method]
        documented = operation["responses"][str(response.status_code)]
        if "content" not in documented:  # 204, or a documented empty 200
            assert not response.content, (path, method, response.content)
            return
        self.record(response.json(), documented["content"]["application/json"]["schema"])


def answered_components(schema):
    """Every component a documented JSON answer of the API is made of."""
    found, queue = set(), []
    for operations in schema["paths"].values():
        for operation in operations.values():
            for documented in operation["responses"].values():
                body = documented.get("content", {}).get("application/json", {}).get("schema")
                if body:
                    queue.append(body)
    while queue:
        name, definition = component(schema, queue.pop())
        if definition.get("type") == "array":
            queue.append(definition["items"])
        if name and "properties" in definition and name not in found:
            found.add(name)
            queue.extend(definition["properties"].values())
    return found


def exercise_every_answer(api, user, rendered):
    """Drive each operation through the answers it can give, recording what was rendered."""
    from django.test import Client

    from tests.conftest import bearer
    from tests.factories import PASSWORD
    from tests.test_introspection import basic

    def call(method, path, documented_path=None, client=api, **kwargs):
        response = getattr(client, method)(path, **kwargs)
        rendered.answer(response, documented_path or path, method)
        return response

    sign_in = {"username": user.username, "password": PASSWORD}
    web = call("post", "/api/token/", data=sign_in, format="json").json()
    native = {**sign_in, "client": "native"}
    phone = call("post", "/api/token/", data={**native, "audience": "Android-App"}, format="json")
    call("post", "/api/token/", data={**native, "audience": "iPhone-App"}, format="json")
    call("post", "/api/token/", data={"username": user.username}, format="json")  # 400
    call("post", "/api/token/", data={**sign_in, "password": "wrong"}, format="json")  # 401
    web_auth = bearer(web["access"])
    call("post", "/api/token/extend/", **web_auth)
    browser = Client()
    browser.post("/signin/", sign_in)
    call("post", "/api/token/extend/", client=browser)  # the cookie's answer: no tokens
    call("post", "/api/token/refresh/", data={"refresh": phone.json()["refresh"]})
    call("get", "/api/me/", **web_auth)
    call("get", "/api/me/")  # 401
    call("get", "/api/devices/", **web_auth)
    device = f"/api/devices/{web['device']['id']}/"
    call("get", device, "/api/devices/{device_id}/", **web_auth)
    call("get", "/.well-known/jwks.json")
    introspect = "/api/token/introspect/"
    for token in (web["access"], phone.json()["refresh"], "not-a-token"):
        call("post", introspect, data={"token": token}, **basic())
    call("post", introspect, data={"token": web["access"]})  # 401
    new = {"old_password": PASSWORD, "new_password": "another-long-passphrase-42"}
    call("post", "/api/password/change/", data=new, format="json", **web_auth)


@pytest.mark.django_db(transaction=True)  # the mirror is written on commit
def test_documented_answers_are_the_rendered_answers(schema, api, user):
    rendered = Rendered(schema)
    exercise_every_answer(api, user, rendered)
    never_rendered = answered_components(schema) - set(rendered.keys)
    assert not never_rendered, f"documented answers the test never saw: {never_rendered}"
    for name, bodies in rendered.keys.items():
        properties = set(schema["components"]["schemas"][name]["properties"])
        sent = set().union(*bodies)
        assert sent == properties, f"{name}: never sent {properties - sent}"
