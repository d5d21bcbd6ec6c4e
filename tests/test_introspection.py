"""RFC 7662 introspection: client authentication, and "active" by every revocation level."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine

from authtokens import tokens
from tests.conftest import bearer

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/token/introspect/"


def basic(client_id="resource-server", secret="s3cret-for-tests-and-long-enough-0123456789"):  # noqa: S107
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {encoded}"}


def introspect(api, token, **body):
    return api.post(URL, {"token": token, **body}, **basic())


def test_an_active_access_token(api, user, sign_in):
    body = sign_in(user)
    response = introspect(api, body["access"])
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    data = response.json()
    claims = tokens.decode(body["access"], token_type=tokens.ACCESS)
    assert data == {
        "active": True,
        "token_type": "access_token",
        "sub": str(user.pk),
        "aud": "web",
        "iss": "authtokens",
        "iat": claims["iat"],
        "exp": claims["exp"],
        "jti": claims["jti"],
        "device_id": body["device"]["id"],
        "client_id": "resource-server",
    }


def test_an_active_refresh_token_and_its_rotation(api, user, sign_in):
    phone = sign_in(user, client="native", audience="Android-App")
    data = introspect(api, phone["refresh"], token_type_hint="refresh_token").json()
    assert data["active"] and data["token_type"] == "refresh_token"
    api.post("/api/token/refresh/", {"refresh": phone["refresh"]})
    assert introspect(api, phone["refresh"]).json() == {"active": False}


@pytest.mark.parametrize("level", ["token", "device", "user"])
def test_revoked_tokens_are_inactive_at_every_level(api, user, sign_in, level):
    body, other = sign_in(user), sign_in(user)
    if level == "token":
        api.post("/api/token/revoke/", {"token": body["access"]}, **bearer(other["access"]))
    elif level == "device":
        api.post("/api/token/logout/", **bearer(body["access"]))
    else:
        api.post("/api/token/logout-all/", **bearer(other["access"]))
    assert introspect(api, body["access"]).json() == {"active": False}


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 5000])
def test_invalid_tokens_are_inactive(api, db, token):
    assert introspect(api, token).json() == {"active": False}


def test_an_expired_token_is_inactive(api, user, sign_in):
    body = sign_in(user)
    with time_machine.travel(tokens.now() + timedelta(minutes=20)):
        assert introspect(api, body["access"]).json() == {"active": False}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(secret="wrong"),
        basic(client_id="someone"),
        {"HTTP_AUTHORIZATION": "Basic !!!"},
        {"HTTP_AUTHORIZATION": "Bearer abc"},
    ],
)
def test_clients_must_authenticate(api, user, sign_in, headers):
    response = api.post(URL, {"token": sign_in(user)["access"]}, **headers)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"
    assert response["WWW-Authenticate"] == 'Basic realm="introspection"'


def test_a_token_is_required(api, db):
    response = api.post(URL, {}, **basic())
    assert response.status_code == 400 and "token" in response.json()["errors"]
