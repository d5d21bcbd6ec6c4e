"""Property-based tests: whatever the input, the answer is a clear error, never a 500 (G7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from authtokens import tokens
from authtokens.exceptions import TokenError
from tests.test_tokens import hmac_signed

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
claim_names = st.sampled_from(["iss", "sub", "aud", "iat", "exp", "nbf", "jti", "did", "gen", "x"])
claim_sets = st.dictionaries(claim_names, json_values, max_size=9)
header_sets = st.fixed_dictionaries(
    {
        "alg": st.sampled_from(["HS256", "none", "HS512", "RS256"]) | json_values,
        "kid": st.sampled_from(["test-1", "nope", ""]) | json_values,
    },
    optional={
        "typ": st.sampled_from(["at+jwt", "rt+jwt", "JWT"]) | json_values,
        "crit": json_values,
        "jku": json_values,
        "jwk": json_values,
    },
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decodes_or_refuses(token: Any) -> None:
    for token_type in (tokens.ACCESS, tokens.REFRESH):
        try:
            tokens.decode(token, token_type=token_type)
        except TokenError:
            pass


@FAST
@given(st.text(max_size=300) | st.binary(max_size=100) | json_values)
def test_any_input_is_decoded_or_refused(value):
    decodes_or_refuses(value)


@FAST
@given(header_sets, claim_sets)
def test_any_correctly_signed_claims_are_decoded_or_refused(headers, claims):
    """Even with our key, hostile shapes only ever produce a TokenError."""
    decodes_or_refuses(hmac_signed(headers, json.dumps(claims).encode()))


@FAST
@given(st.text(max_size=200), st.sampled_from([".", "..", "...", "=", "=="]))
def test_mangled_real_tokens_are_refused(junk, separator):
    token = tokens.encode(
        tokens.build_claims(
            user_id="1",
            device_id="6f9f7c1e-0e53-4d1e-9c4d-2f6a1d2b3c4d",
            audience="web",
            generation=0,
            expires_at=None,
        ),
        token_type=tokens.ACCESS,
    )
    decodes_or_refuses(token + separator + junk)
    decodes_or_refuses(junk + separator + token)


ENDPOINTS = [
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/revoke/",
    "/api/token/extend/",
    "/api/token/logout/",
    "/api/token/logout-all/",
    "/api/password/change/",
    "/api/token/introspect/",
]


@pytest.mark.django_db
@FAST
@given(st.sampled_from(ENDPOINTS), json_values)
def test_no_json_body_makes_an_endpoint_fail(path, body):
    response = APIClient().post(path, json.dumps(body), content_type="application/json")
    assert response.status_code < 500, response.content


@pytest.mark.django_db
@FAST
@given(st.sampled_from(ENDPOINTS + ["/api/me/", "/api/devices/"]), st.text(max_size=200))
def test_no_authorization_header_makes_an_endpoint_fail(path, header):
    try:
        header.encode("latin-1")
    except UnicodeEncodeError:
        return  # not a header a client could send
    client = APIClient()
    method = client.get if path in ("/api/me/", "/api/devices/") else client.post
    response = method(path, HTTP_AUTHORIZATION=header)
    assert response.status_code < 500, response.content


@pytest.mark.django_db
@FAST
@given(
    st.binary(max_size=300),
    st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain",
        ]
    ),
)
def test_no_raw_body_makes_sign_in_fail(body, content_type):
    response = APIClient().post("/api/token/", body, content_type=content_type)
    assert response.status_code < 500, response.content
