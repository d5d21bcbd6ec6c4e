"""NumericDates of any size or type, signed with our own key: refused or served, never a 500.

Tokens are signed by us, but a leaked key, a bug in a client library or a test harness can still
put any JSON number in ``exp``, ``iat`` or ``nbf``. The largest one accepted leaves room below
datetime's last second (9999-12-31T23:59:59Z) for every store's arithmetic: the Redis store
rounds ``exp`` up to its hour and adds the leeway.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from authtokens import tokens
from authtokens.exceptions import TokenError
from authtokens.tokens import ACCESS, REFRESH
from tests.factories import PASSWORD, UserFactory
from tests.test_tokens import hmac_signed

pytestmark = pytest.mark.django_db(transaction=True)

LAST_DATETIME_SECOND = 253402300799  # 9999-12-31T23:59:59Z: datetime.max, in whole seconds
MAX_NUMERIC_DATE = LAST_DATETIME_SECOND  # the farthest accepted: the last second of 9999
ACCEPTED_FAR_FUTURE = [MAX_NUMERIC_DATE, MAX_NUMERIC_DATE - 3599]
REFUSED = [
    LAST_DATETIME_SECOND + 1,
    2**53 - 1,
    2**53,
    2**63,
    2**64 + 1,
    10**400,
    -1,
    -(2**63),
    1.5,
    float(MAX_NUMERIC_DATE),
    1e300,
    True,
    False,
    None.__class__.__name__,  # "NoneType": a string
    [],
    {},
]
STORES = {
    "redis": "authtokens.store.redis.RedisStore",
    "database": "authtokens.store.database.DatabaseStore",
}
CLIENT_SECRET = "s3cret-for-tests-and-long-enough-0123456789"  # noqa: S105  tests/settings.py


@pytest.fixture(params=[pytest.param("database"), pytest.param("redis", marks=pytest.mark.redis)])
def store_path(request: pytest.FixtureRequest, settings: Any) -> str:
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REVOCATION_STORE": STORES[request.param]}
    return request.param


def resigned(token: str, token_type: str, **overrides: Any) -> str:
    """The token's own claims with ``overrides``, signed with the test key as we sign."""
    claims = tokens.decode(token, token_type=token_type)
    claims.update(overrides)
    return hmac_signed({"alg": "HS256", "kid": "test-1", "typ": token_type}, claims)


def sign_in(api: APIClient, user: Any, **body: Any) -> dict[str, Any]:
    response = api.post(
        "/api/token/", {"username": user.username, "password": PASSWORD, **body}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def basic() -> dict[str, str]:
    encoded = base64.b64encode(f"resource-server:{CLIENT_SECRET}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {encoded}"}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def answers_for_access_token(token: str, other_access: str) -> dict[str, int]:
    """Every door an access token goes through, from reading to revoking; name -> status."""
    api = APIClient(raise_request_exception=False)
    browser = Client(raise_request_exception=False)
    browser.cookies["__Host-authtokens"] = token
    statuses = {
        "me": api.get("/api/me/", **bearer(token)).status_code,
        "devices": api.get("/api/devices/", **bearer(token)).status_code,
        "ping": api.get("/ping/", **bearer(token)).status_code,
        "introspect": api.post("/api/token/introspect/", {"token": token}, **basic()).status_code,
        "cookie page": browser.get("/").status_code,
        "cookie devices page": browser.get("/devices/").status_code,
        "cookie api": browser.get("/api/me/").status_code,
        "extend": api.post("/api/token/extend/", **bearer(token)).status_code,
        "revoke": api.post(
            "/api/token/revoke/", {"token": token}, format="json", **bearer(other_access)
        ).status_code,
    }
    statuses["me after revoke"] = api.get("/api/me/", **bearer(token)).status_code
    statuses["introspect after revoke"] = api.post(
        "/api/token/introspect/", {"token": token}, **basic()
    ).status_code
    for name, path in [
        ("password change", "/api/password/change/"),
        ("logout", "/api/token/logout/"),
        ("logout-all", "/api/token/logout-all/"),
    ]:
        body = {"old_password": "wrong", "new_password": "x"} if name == "password change" else {}
        statuses[name] = api.post(path, body, format="json", **bearer(token)).status_code
    return statuses


@pytest.mark.parametrize("exp", ACCEPTED_FAR_FUTURE)
def test_the_farthest_exp_accepted_can_be_revoked(store_path, exp):
    """RFC 7009 revocation of a token valid until year 9999 works, and takes effect."""
    user = UserFactory()
    api = APIClient(raise_request_exception=False)
    token = resigned(sign_in(api, user)["access"], ACCESS, exp=exp)
    other = sign_in(api, user)["access"]
    assert api.get("/api/me/", **bearer(token)).status_code == 200
    introspected = api.post("/api/token/introspect/", {"token": token}, **basic()).json()
    assert introspected["active"] is True and introspected["exp"] == exp
    revoke = api.post("/api/token/revoke/", {"token": token}, format="json", **bearer(other))
    assert revoke.status_code == 200, revoke.content
    assert api.get("/api/me/", **bearer(token)).status_code == 401
    after = api.post("/api/token/introspect/", {"token": token}, **basic()).json()
    assert after == {"active": False}


@pytest.mark.parametrize("exp", ACCEPTED_FAR_FUTURE)
def test_the_farthest_exp_accepted_goes_through_every_endpoint(store_path, exp):
    user = UserFactory()
    api = APIClient()
    token = resigned(sign_in(api, user)["access"], ACCESS, exp=exp)
    statuses = answers_for_access_token(token, sign_in(api, user)["access"])
    assert all(code < 500 for code in statuses.values()), statuses
    assert statuses["me"] == statuses["cookie api"] == 200
    assert statuses["revoke"] == 200 and statuses["me after revoke"] == 401


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_numeric_dates_out_of_range_or_type_are_refused_everywhere(store_path, claim, value):
    user = UserFactory()
    api = APIClient()
    token = resigned(sign_in(api, user)["access"], ACCESS, **{claim: value})
    statuses = answers_for_access_token(token, sign_in(api, user)["access"])
    assert all(code < 500 for code in statuses.values()), statuses
    assert statuses["me"] == statuses["ping"] == statuses["extend"] == 401, statuses
    assert statuses["revoke"] == 200  # RFC 7009: an invalid token is no error
    with pytest.raises(TokenError) as refused:
        tokens.decode(token, token_type=ACCESS)
    assert refused.value.code == "invalid_claim"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    ("value", "accepted"),
    [*((value, True) for value in ACCEPTED_FAR_FUTURE), *((value, False) for value in REFUSED)],
    ids=repr,
)
def test_refresh_tokens_with_any_numeric_date_never_fail(claim, value, accepted):
    user = UserFactory()
    api = APIClient(raise_request_exception=False)
    body = sign_in(api, user, client="native", audience="Android-App")
    refresh = resigned(body["refresh"], REFRESH, **{claim: value})
    introspected = api.post(
        "/api/token/introspect/",
        {"token": refresh, "token_type_hint": "refresh_token"},
        **basic(),
    )
    refreshed = api.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    revoked = api.post(
        "/api/token/revoke/",
        {"token": refresh, "token_type_hint": "refresh_token"},
        format="json",
        **bearer(body["access"]),
    )
    statuses = [introspected.status_code, refreshed.status_code, revoked.status_code]
    assert all(code < 500 for code in statuses), statuses
    if accepted and claim == "exp":
        assert refreshed.status_code == 200, refreshed.content
    else:  # refused, or (a far-future iat or nbf) not yet valid
        assert refreshed.status_code == 401, refreshed.content
