"""Property-based tests: whatever the input, the answer is a clear error, never a 500.

README, Guarantees: "No input yields a 500 or a hint whether a username exists".
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from authtokens import tokens
from authtokens.exceptions import TokenError
from tests.factories import PASSWORD, UserFactory
from tests.test_tokens import hmac_signed

STORES = {
    "redis": "authtokens.store.redis.RedisStore",
    "database": "authtokens.store.database.DatabaseStore",
}
INTROSPECTION_SECRET = "s3cret-for-tests-and-long-enough-0123456789"  # noqa: S105 tests/settings.py

# NumericDates near and past every limit: datetime's (year 9999), JSON's exact integers (2**53),
# 64-bit integers, and far beyond; negative, fractional, infinite, boolean.
LAST_DATETIME_SECOND = 253402300799  # 9999-12-31T23:59:59Z
LAST_NUMERIC_DATE = LAST_DATETIME_SECOND  # the farthest accepted
huge_numbers = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.integers(min_value=LAST_NUMERIC_DATE - 86400, max_value=LAST_DATETIME_SECOND + 10)
    | st.sampled_from(
        [
            LAST_NUMERIC_DATE,
            LAST_NUMERIC_DATE + 1,
            LAST_DATETIME_SECOND,
            LAST_DATETIME_SECOND + 1,
            2**53 - 1,
            2**53,
            2**63,
            -(2**63),
            10**400,
            -(10**400),
        ]
    )
    | st.floats()
    | st.booleans()
)
json_values = st.recursive(
    st.none() | st.booleans() | huge_numbers | st.floats(allow_nan=False) | st.text(max_size=20),
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


time_claims = st.fixed_dictionaries(
    {"exp": huge_numbers}, optional={"iat": huge_numbers, "nbf": huge_numbers}
)


@FAST
@given(time_claims, st.sampled_from(["web", "iPhone-App", "Android-App"]))
def test_any_numeric_date_is_decoded_or_refused_and_stays_a_datetime(times, audience):
    """Accepted or refused, never an exception other than TokenError; an accepted exp is a
    datetime. (The stores' own arithmetic on it, an hour's rounding and the leeway, is in
    POSIX seconds: test_no_numeric_date_makes_any_endpoint_fail drives it.)"""
    claims = {**_valid_claims(audience), **times}
    token = hmac_signed({"alg": "HS256", "kid": "test-1", "typ": tokens.ACCESS}, claims)
    try:
        decoded = tokens.decode(token, token_type=tokens.ACCESS)
    except TokenError:
        return
    for name in ("exp", "iat", "nbf"):
        if name in decoded:
            assert type(decoded[name]) is int and 0 <= decoded[name] <= LAST_NUMERIC_DATE
    expires = tokens.expires_at(decoded)
    assert expires is None or expires.year <= 9999


def _valid_claims(audience: str, *, user_id: str = "1", device_id: str | None = None) -> dict:
    return tokens.build_claims(
        user_id=user_id,
        device_id=device_id or "6f9f7c1e-0e53-4d1e-9c4d-2f6a1d2b3c4d",
        audience=audience,
        generation=0,
        expires_at=tokens.now() + timedelta(minutes=5),
    )


@pytest.mark.redis  # each example picks a store; the Redis one among them
@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(time_claims, st.sampled_from(["redis", "database"]))
@example({"exp": LAST_DATETIME_SECOND}, "redis")  # the Redis store's hour rounds past 9999
@example({"exp": 2**53 - 1}, "database")  # past datetime: the cookie flow and revocation
@example({"exp": LAST_NUMERIC_DATE, "nbf": 0, "iat": 0}, "redis")  # the farthest accepted
def test_no_numeric_date_makes_any_endpoint_fail(times, store):
    """A real device's token, signed with our key, with any exp, iat and nbf: through every
    endpoint, the pages and the cookie, the answer is never a 500."""
    with override_settings(
        AUTHTOKENS={**django_settings.AUTHTOKENS, "REVOCATION_STORE": STORES[store]}
    ):
        _every_endpoint_answers(times)


def _every_endpoint_answers(times: dict[str, Any]) -> None:
    user = UserFactory()
    api = APIClient(raise_request_exception=False)
    issued = api.post(
        "/api/token/", {"username": user.username, "password": PASSWORD}, format="json"
    ).json()
    other = api.post(
        "/api/token/", {"username": user.username, "password": PASSWORD}, format="json"
    ).json()
    claims = {**tokens.decode(issued["access"], token_type=tokens.ACCESS), **times}
    token = hmac_signed({"alg": "HS256", "kid": "test-1", "typ": tokens.ACCESS}, claims)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    browser = Client(raise_request_exception=False)
    browser.cookies["__Host-authtokens"] = token
    answers = [
        api.get("/api/me/", **auth),
        api.get("/api/devices/", **auth),
        browser.get("/"),
        browser.get("/api/me/"),
        api.post(
            "/api/token/introspect/",
            {"token": token},
            HTTP_AUTHORIZATION="Basic "
            + base64.b64encode(f"resource-server:{INTROSPECTION_SECRET}".encode()).decode(),
        ),
        api.post("/api/token/extend/", **auth),
        api.post(
            "/api/token/revoke/",
            {"token": token},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {other['access']}",
        ),
        api.get("/api/me/", **auth),
        api.post("/api/token/logout/", **auth),
    ]
    assert all(answer.status_code < 500 for answer in answers), [
        (answer.status_code, answer.content[:200]) for answer in answers
    ]
