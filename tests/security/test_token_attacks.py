"""Forged and replayed tokens through the real views: each refused with its exact code."""

from __future__ import annotations

import json

import pytest

from tests.conftest import bearer
from tests.test_tokens import b64, claims, forge, hmac_signed

pytestmark = pytest.mark.django_db(transaction=True)


def refused(api, token, code):
    response = api.get("/api/me/", **bearer(token))
    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(
    "kid",
    ["../../etc/passwd", "' OR 1=1 --", "x" * 3000, "test-1\x00", "тест", 7, None, ["test-1"]],
)
def test_hostile_kids_are_unknown_keys(api, db, kid):
    token = hmac_signed({"alg": "HS256", "kid": kid, "typ": "at+jwt"}, claims())
    refused(api, token, "unknown_key" if len(token) <= 4096 else "token_too_large")


@pytest.mark.parametrize("suffix", ["=", "==", "%3D"])
def test_padding_appended_to_a_revoked_token_does_not_revive_it(api, user, sign_in, suffix):
    body, other = sign_in(user), sign_in(user)
    api.post("/api/token/revoke/", {"token": body["access"]}, **bearer(other["access"]))
    response = api.get("/api/me/", **bearer(body["access"] + suffix))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "overrides", [{"sub": "1\x00"}, {"jti": "ünïcödé"}, {"jti": "a\x00b"}, {"jti": "a b"}]
)
def test_nul_bytes_and_unicode_in_identifiers_are_invalid_claims(api, user, sign_in, overrides):
    device = sign_in(user)["device"]["id"]
    refused(api, forge(claims(did=device, sub=str(user.pk)) | overrides), "invalid_claim")


def test_a_native_audience_on_a_web_device_is_not_honoured(api, user, sign_in):
    """Even signed with our key, a token claiming a non-expiring audience for a device that
    was issued as web has no exp: it only works while the audience is configured so, and
    revoking the device still ends it."""
    body = sign_in(user)
    token = forge(claims(aud="iPhone-App", exp=None, did=body["device"]["id"], sub=str(user.pk)))
    assert api.get("/api/me/", **bearer(token)).status_code == 200
    api.post("/api/token/logout/", **bearer(body["access"]))
    refused(api, token, "token_revoked")


def test_a_header_that_is_not_json_is_malformed(api, db):
    refused(api, f"{b64(b'not json')}.{b64(json.dumps(claims()).encode())}.sig", "malformed_token")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_scheme_is_case_insensitive(api, user, sign_in, scheme):
    body = sign_in(user)
    response = api.get("/api/me/", HTTP_AUTHORIZATION=f"{scheme} {body['access']}")
    assert response.status_code == 200  # RFC 7235 section 2.1: schemes are case-insensitive
