"""The API end to end through Django's test client, on PostgreSQL and real Redis.

Transactional tests: each request commits, so revocations reach Redis through on_commit as
they do in production.
"""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import time_machine
from django.test import override_settings

from authtokens import tokens
from authtokens.models import Device, RevocationEvent, RevokedAccessToken
from authtokens.store.redis import RedisStore
from tests.conftest import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def assert_refused(response, code, status=401):
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    if status == 401:
        assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_sign_in_returns_a_web_access_token_and_names_the_device(api, user, sign_in):
    body = sign_in(user, device_name="Frank's laptop")
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 15 * 60
    assert "refresh" not in body  # web sessions slide with /extend
    assert body["device"]["name"] == "Frank's laptop"
    claims = jwt.decode(body["access"], options={"verify_signature": False})
    assert claims["aud"] == "web" and claims["sub"] == str(user.pk)
    assert claims["did"] == body["device"]["id"]


def test_token_responses_are_never_cached(api, user):
    response = api.post(
        "/api/token/", {"username": user.username, "password": "correct horse battery staple"}
    )
    assert response["Cache-Control"] == "no-store"


def test_the_access_token_opens_protected_views(api, user, sign_in):
    body = sign_in(user)
    response = api.get("/api/me/", **bearer(body["access"]))
    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.pk),
        "username": user.username,
        # Unnamed, so named after its User-Agent: the fixture's client says "pytest".
        "device": {"id": body["device"]["id"], "name": "pytest"},
    }


def test_no_credentials_get_a_bearer_challenge(api, db):
    response = api.get("/api/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer not-a-jwt"])
def test_malformed_authorization_is_refused(api, db, header):
    assert_refused(api.get("/api/me/", HTTP_AUTHORIZATION=header), "malformed_token")


def test_wrong_password_and_unknown_user_get_the_same_answer(api, user):
    wrong = api.post("/api/token/", {"username": user.username, "password": "nope"})
    unknown = api.post("/api/token/", {"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "code": "invalid_credentials",
            "detail": "Unable to sign in with the given credentials.",
        }
    )
    assert "WWW-Authenticate" in wrong


def test_inactive_user_cannot_sign_in(api, db):
    user = UserFactory(is_active=False)
    response = api.post(
        "/api/token/", {"username": user.username, "password": "correct horse battery staple"}
    )
    assert response.json()["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "x"},
        {"username": "x", "password": "y", "client": "desktop"},
        {"username": "x", "password": "y", "client": "native"},
        {"username": "x", "password": "y", "client": "native", "audience": "Evil-App"},
        {"username": "x", "password": "y", "audience": "iPhone-App"},
        {"username": ["x"], "password": {"a": 1}},
    ],
)
def test_malformed_sign_in_bodies_get_400(api, db, body):
    response = api.post("/api/token/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"]


def test_a_body_that_is_not_json_gets_400(api, db):
    response = api.post("/api/token/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_extend_slides_the_session_and_stops_at_its_maximum(api, user, sign_in, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "WEB_SESSION_MAX_LIFETIME": timedelta(minutes=40)}
    body = sign_in(user)
    start = Device.objects.get(pk=body["device"]["id"]).created_at

    def extend_at(minutes, token):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            return api.post("/api/token/extend/", **bearer(token))

    first = extend_at(14, body["access"])
    assert first.status_code == 200
    assert first.json()["expires_in"] == 15 * 60
    assert first.json()["device"]["id"] == body["device"]["id"]
    # The old token keeps working until its own exp, then only the new one does.
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert_refused(api.get("/api/me/", **bearer(body["access"])), "token_expired")
        assert api.get("/api/me/", **bearer(first.json()["access"])).status_code == 200
    second = extend_at(28, first.json()["access"])
    assert second.json()["expires_in"] == 12 * 60  # capped by the 40-minute session
    third = extend_at(39, second.json()["access"])
    assert third.json()["expires_in"] == 60
    assert_refused(extend_at(40.1, third.json()["access"]), "session_expired")


def test_an_idle_web_session_ends_with_its_token(api, user, sign_in):
    body = sign_in(user)
    with time_machine.travel(tokens.now() + timedelta(minutes=16)):
        assert_refused(api.post("/api/token/extend/", **bearer(body["access"])), "token_expired")


def test_native_tokens_cannot_be_extended(api, user, sign_in):
    body = sign_in(user, client="native", audience="Android-App")
    response = api.post("/api/token/extend/", **bearer(body["access"]))
    assert response.status_code == 400
    assert response.json()["code"] == "not_extendable"


def test_non_expiring_native_token_has_no_exp_and_is_still_revocable(
    api, user, sign_in, redis, settings
):
    # Ten years of daily use; the idle limit (tests/test_idle.py) is not what this is about.
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "NON_EXPIRING_IDLE_LIMIT": None}
    body = sign_in(user, client="native", audience="iPhone-App", device_name="Frank's iPhone")
    assert "expires_in" not in body and "refresh" not in body
    assert "exp" not in jwt.decode(body["access"], options={"verify_signature": False})
    with time_machine.travel(tokens.now() + timedelta(days=3650)):
        assert api.get("/api/me/", **bearer(body["access"])).status_code == 200
        device = body["device"]["id"]
        assert api.delete(f"/api/devices/{device}/", **bearer(body["access"])).status_code == 204
        assert_refused(api.get("/api/me/", **bearer(body["access"])), "token_revoked")
    assert redis.pttl(RedisStore().key("d", device)) == -1  # a mirror entry that never expires


def test_logout_revokes_the_calling_device_only(api, user, sign_in, redis):
    phone = sign_in(user, client="native", audience="Android-App")
    laptop = sign_in(user)
    assert api.post("/api/token/logout/", **bearer(laptop["access"])).status_code == 204
    assert_refused(api.get("/api/me/", **bearer(laptop["access"])), "token_revoked")
    assert api.get("/api/me/", **bearer(phone["access"])).status_code == 200
    # The phone's refresh token still works; the laptop's device is revoked in the database.
    assert api.post("/api/token/refresh/", {"refresh": phone["refresh"]}).status_code == 200
    assert Device.objects.get(pk=laptop["device"]["id"]).revoked_reason == "logout"
    assert redis.exists(RedisStore().key("d", laptop["device"]["id"]))


def test_logout_all_revokes_every_device_and_refresh_token(api, user, sign_in):
    phone = sign_in(user, client="native", audience="Android-App")
    laptop = sign_in(user)
    other_user = sign_in(UserFactory())
    assert api.post("/api/token/logout-all/", **bearer(laptop["access"])).status_code == 204
    assert_refused(api.get("/api/me/", **bearer(laptop["access"])), "token_revoked")
    assert_refused(api.get("/api/me/", **bearer(phone["access"])), "token_revoked")
    assert_refused(api.post("/api/token/refresh/", {"refresh": phone["refresh"]}), "token_revoked")
    assert api.get("/api/me/", **bearer(other_user["access"])).status_code == 200
    # Signing in again afterwards works at once: the generation is a counter, not a time.
    assert api.get("/api/me/", **bearer(sign_in(user)["access"])).status_code == 200
    assert RevocationEvent.objects.filter(level="user", reason="logout_all").count() == 1


def test_revoke_one_access_token_rfc7009(api, user, sign_in, redis):
    first, second = sign_in(user), sign_in(user)
    response = api.post(
        "/api/token/revoke/", {"token": first["access"]}, **bearer(second["access"])
    )
    assert response.status_code == 200
    assert_refused(api.get("/api/me/", **bearer(first["access"])), "token_revoked")
    assert api.get("/api/me/", **bearer(second["access"])).status_code == 200
    jti = tokens.decode(first["access"], token_type=tokens.ACCESS)["jti"]
    assert RevokedAccessToken.objects.filter(jti=jti).exists()
    exp = tokens.decode(first["access"], token_type=tokens.ACCESS)["exp"]
    bucket = RedisStore().token_bucket(jti, exp)
    assert redis.hexists(bucket, jti)
    ttl_seconds = redis.pttl(bucket) / 1000  # until the end of exp's hour, plus the leeway
    assert exp < tokens.now().timestamp() + ttl_seconds <= (exp // 3600 + 1) * 3600 + 10 + 1


def test_revoking_a_refresh_token_revokes_its_device(api, user, sign_in):
    phone = sign_in(user, client="native", audience="Android-App")
    laptop = sign_in(user)
    body = {"token": phone["refresh"], "token_type_hint": "refresh_token"}
    assert api.post("/api/token/revoke/", body, **bearer(laptop["access"])).status_code == 200
    assert_refused(api.get("/api/me/", **bearer(phone["access"])), "token_revoked")
    assert_refused(api.post("/api/token/refresh/", {"refresh": phone["refresh"]}), "token_revoked")


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_revoking_an_invalid_token_is_a_silent_200(api, user, sign_in, token):
    body = sign_in(user)
    assert (
        api.post("/api/token/revoke/", {"token": token}, **bearer(body["access"])).status_code
        == 200
    )


def test_a_user_cannot_revoke_another_users_token(api, user, sign_in):
    mine, theirs = sign_in(user), sign_in(UserFactory())
    response = api.post("/api/token/revoke/", {"token": theirs["access"]}, **bearer(mine["access"]))
    assert response.status_code == 403
    assert response.json()["code"] == "not_token_owner"
    assert api.get("/api/me/", **bearer(theirs["access"])).status_code == 200


def test_revoke_needs_a_token_in_the_body(api, user, sign_in):
    response = api.post("/api/token/revoke/", {}, **bearer(sign_in(user)["access"]))
    assert response.status_code == 400


def test_retiring_the_signing_key_revokes_everyone(api, user, sign_in, settings):
    body = sign_in(user)
    new_key = {"kid": "test-2", "algorithm": "HS256", "secret": "n" * 32}
    with override_settings(AUTHTOKENS={**settings.AUTHTOKENS, "SIGNING_KEYS": [new_key]}):
        assert_refused(api.get("/api/me/", **bearer(body["access"])), "unknown_key")
        assert api.get("/api/me/", **bearer(sign_in(user)["access"])).status_code == 200


def test_jwks_is_empty_for_hmac_keys(api, db):
    assert api.get("/.well-known/jwks.json").json() == {"keys": []}


def test_jwks_publishes_public_asymmetric_keys(api, db, settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = {"kid": "ec-1", "algorithm": "ES256", "private_key": pem}
    with override_settings(AUTHTOKENS={**settings.AUTHTOKENS, "SIGNING_KEYS": [key]}):
        (jwk,) = api.get("/.well-known/jwks.json").json()["keys"]
    assert jwk["kid"] == "ec-1" and jwk["alg"] == "ES256" and jwk["kty"] == "EC"
    assert "d" not in jwk  # never the private part


def forged_tokens(user_id, device_id):
    """One token per rejection rule, each as an attacker or a broken client would send it."""
    import json

    from tests.test_tokens import claims, forge, raw_token

    base = claims(sub=user_id, did=device_id)
    future = int((tokens.now() + timedelta(minutes=5)).timestamp())
    header = {"alg": "none", "kid": "test-1", "typ": tokens.ACCESS}
    return {
        "malformed_token": "abc.def",
        "token_too_large": "a" * 5000,
        "unsupported_header": forge(base, crit=["b64"]),
        "unknown_key": forge(base, kid="retired"),
        "wrong_algorithm": raw_token(header, json.dumps(base).encode(), ""),
        "wrong_token_type": forge(base, typ=tokens.REFRESH),
        "bad_signature": forge(base, key="x" * 32),
        "wrong_issuer": forge({**base, "iss": "elsewhere"}),
        "wrong_audience": forge({**base, "aud": "Evil-App"}),
        "missing_claim": forge({k: v for k, v in base.items() if k != "jti"}),
        "invalid_claim": forge({**base, "exp": str(base["exp"])}),
        "token_expired": forge({**base, "exp": base["iat"] - 60}),
        "token_not_yet_valid": forge({**base, "nbf": future}),
    }


@pytest.mark.parametrize(
    "code",
    [
        "malformed_token",
        "token_too_large",
        "unsupported_header",
        "unknown_key",
        "wrong_algorithm",
        "wrong_token_type",
        "bad_signature",
        "wrong_issuer",
        "wrong_audience",
        "missing_claim",
        "invalid_claim",
        "token_expired",
        "token_not_yet_valid",
    ],
)
def test_every_rejection_reaches_the_client_with_its_code(api, user, sign_in, code):
    device_id = sign_in(user)["device"]["id"]
    token = forged_tokens(str(user.pk), device_id)[code]
    for path in ("/api/me/", "/api/token/extend/"):
        method = api.get if path == "/api/me/" else api.post
        assert_refused(method(path, **bearer(token)), code)


def test_signals_tell_other_apps_about_issues_and_revocations(api, user, sign_in):
    from authtokens.signals import tokens_issued, tokens_revoked

    issued, revoked = [], []

    def on_issue(sender, **kwargs):
        issued.append(kwargs)

    def on_revoke(sender, **kwargs):
        revoked.append(kwargs)

    tokens_issued.connect(on_issue)
    tokens_revoked.connect(on_revoke)
    try:
        body = sign_in(user)
        api.post("/api/token/logout/", **bearer(body["access"]))
    finally:
        tokens_issued.disconnect(on_issue)
        tokens_revoked.disconnect(on_revoke)
    assert [str(kwargs["device"].pk) for kwargs in issued] == [body["device"]["id"]]
    assert issued[0]["user_id"] == user.pk and issued[0]["tokens"].access == body["access"]
    (event,) = revoked
    assert event["level"] == "device" and event["reason"] == "logout"
    assert str(event["device_id"]) == body["device"]["id"] and event["user_id"] == user.pk


def test_unknown_api_paths_answer_in_json(api, db):
    response = api.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
