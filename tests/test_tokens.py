"""Token rules: every rejection has its own stable code; keys pin their algorithm."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.test import override_settings

from authtokens import exceptions as exc
from authtokens import tokens
from authtokens.tokens import ACCESS, REFRESH

SECRET = "t" * 32


def authtokens(**overrides):
    from django.conf import settings

    return override_settings(AUTHTOKENS={**settings.AUTHTOKENS, **overrides})


def claims(**overrides):
    base = tokens.build_claims(
        user_id="1",
        device_id=str(uuid.uuid4()),
        audience="web",
        generation=0,
        expires_at=tokens.now() + timedelta(minutes=5),
    )
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def forge(payload, *, key=SECRET, alg="HS256", kid="test-1", typ=ACCESS, **headers):
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, "typ": typ, **headers})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict, payload_bytes: bytes, signature: str = "sig") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(payload_bytes)}.{signature}"


def rejected(token, token_type=ACCESS):
    with pytest.raises(exc.TokenError) as caught:
        tokens.decode(token, token_type=token_type)
    return caught.value.code


def test_a_token_round_trips_with_its_headers():
    token = tokens.encode(claims(), token_type=ACCESS)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "kid": "test-1", "typ": "at+jwt"}
    decoded = tokens.decode(token, token_type=ACCESS)
    assert decoded["aud"] == "web" and decoded["iss"] == "authtokens"


def test_bad_signature_is_refused():
    assert rejected(forge(claims(), key="x" * 32)) == "bad_signature"


def test_stripped_signature_is_refused():
    token = tokens.encode(claims(), token_type=ACCESS)
    assert rejected(token.rsplit(".", 1)[0] + ".") == "bad_signature"


def test_unknown_kid_is_refused():
    assert rejected(forge(claims(), kid="nope")) == "unknown_key"


def test_missing_kid_is_refused():
    token = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"typ": ACCESS})
    assert rejected(token) == "unknown_key"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused_in_any_case(alg):
    header = {"alg": alg, "kid": "test-1", "typ": ACCESS}
    assert rejected(raw_token(header, json.dumps(claims()).encode(), "")) == "wrong_algorithm"


def test_another_hmac_algorithm_for_the_kid_is_refused():
    assert rejected(forge(claims(), alg="HS512", key="t" * 64)) == "wrong_algorithm"


def test_refresh_token_used_as_access_token_is_refused():
    refresh = tokens.encode(claims(), token_type=REFRESH)
    assert rejected(refresh, ACCESS) == "wrong_token_type"
    access = tokens.encode(claims(), token_type=ACCESS)
    assert rejected(access, REFRESH) == "wrong_token_type"


def test_plain_jwt_type_is_refused():
    assert rejected(forge(claims(), typ="JWT")) == "wrong_token_type"


def test_wrong_issuer_is_refused():
    assert rejected(forge(claims(iss="someone-else"))) == "wrong_issuer"


@pytest.mark.parametrize("audience", ["mobile", "", ["web"], None])
def test_wrong_audience_is_refused(audience):
    payload = claims()
    payload["aud"] = audience
    code = rejected(forge(payload))
    assert code == ("missing_claim" if audience is None else "wrong_audience")


def test_expired_token_is_refused_after_the_leeway():
    token = tokens.encode(claims(), token_type=ACCESS)
    with time_machine.travel(tokens.now() + timedelta(minutes=5, seconds=5)):
        assert tokens.decode(token, token_type=ACCESS)  # within the 10 s leeway
    with time_machine.travel(tokens.now() + timedelta(minutes=5, seconds=11)):
        assert rejected(token) == "token_expired"


def test_token_from_the_future_is_refused():
    future = int((tokens.now() + timedelta(minutes=1)).timestamp())
    assert rejected(forge(claims(iat=future))) == "token_not_yet_valid"
    assert rejected(forge(claims(nbf=future))) == "token_not_yet_valid"


@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "iat", "jti", "did", "gen"])
def test_each_required_claim_is_required(claim):
    payload = claims()
    del payload[claim]
    assert rejected(forge(payload)) == "missing_claim"


def test_web_token_without_exp_is_refused():
    assert rejected(forge(claims(exp=None))) == "missing_claim"


def test_non_expiring_native_audience_needs_no_exp():
    token = forge(claims(exp=None, aud="iPhone-App"))
    assert "exp" not in tokens.decode(token, token_type=ACCESS)


def test_native_audience_that_expires_needs_exp():
    assert rejected(forge(claims(exp=None, aud="Android-App"))) == "missing_claim"


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": "9999999999"},
        {"exp": 10**400},
        {"exp": True},
        {"iat": 1.5},
        # Past the last NumericDate: datetime's last second, 9999-12-31T23:59:59Z.
        {"exp": 253402300800},
        {"exp": 2**53 - 1},
        {"nbf": 253402300800},
        {"iat": 253402300800},
        {"iat": -1},
        {"nbf": -1},
        {"gen": "0"},
        {"gen": -1},
        {"did": "not-a-uuid"},
        {"did": str(uuid.uuid4()).upper()},
        {"sub": 7},
        {"jti": "x" * 65},
    ],
)
def test_claims_of_the_wrong_type_are_refused(overrides):
    assert rejected(forge(claims(**overrides))) == "invalid_claim"


def test_the_last_numeric_date_is_the_last_second_of_9999():
    """The farthest exp accepted is the last second a datetime holds (RFC 7519 section 2)."""
    assert tokens.MAX_NUMERIC_DATE == 253402300799
    decoded = tokens.decode(forge(claims(exp=tokens.MAX_NUMERIC_DATE)), token_type=ACCESS)
    expires = tokens.expires_at(decoded)
    assert expires is not None and expires.isoformat() == "9999-12-31T23:59:59+00:00"


def test_unknown_critical_header_is_refused():
    assert rejected(forge(claims(), crit=["exp"])) == "unsupported_header"


def test_jku_and_jwk_headers_are_never_used_to_pick_a_key():
    token = forge(claims(), key="x" * 32, jku="http://127.0.0.1:1/keys", jwk={"kty": "oct"})
    assert rejected(token) == "bad_signature"


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b", "a.b.c.d", "!!!.???.***", "bm90IGpzb24.bm90IGpzb24.x", "W10.e30.x"]
)
def test_malformed_tokens_are_refused(token):
    assert rejected(token) == "malformed_token"


def hmac_signed(header: dict, payload: dict | bytes, key: bytes = SECRET.encode()) -> str:
    """Sign by hand what PyJWT would refuse to produce."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(body)}"
    signature = b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())
    return f"{signing_input}.{signature}"


HEADER = {"alg": "HS256", "kid": "test-1", "typ": ACCESS}


def test_payload_that_is_not_an_object_is_refused():
    assert rejected(hmac_signed(HEADER, b"[1, 2]")) == "malformed_token"


def test_duplicate_claim_names_are_refused():
    payload = json.dumps(claims())[:-1] + ', "sub": "2"}'
    assert rejected(hmac_signed(HEADER, payload.encode())) == "malformed_token"


def test_duplicate_header_names_are_refused():
    token = hmac_signed(HEADER, claims())
    header = b64(b'{"alg": "HS256", "kid": "test-1", "kid": "other", "typ": "at+jwt"}')
    assert rejected(header + token[token.index(".") :]) == "malformed_token"


def test_an_unencoded_payload_header_is_refused_even_without_crit():
    """RFC 7797's b64 changes what is signed; decode verifies its own JWS and refuses it."""
    assert rejected(hmac_signed({**HEADER, "b64": False}, claims())) == "unsupported_header"


def test_a_second_spelling_of_the_same_signature_is_refused():
    """The last base64url character of a 32-byte signature carries 2 unused bits: a token
    whose signature differs only there decodes to the same bytes, and must still fail."""
    token = hmac_signed(HEADER, claims())
    assert tokens.decode(token, token_type=ACCESS)["sub"] == "1"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    twin = token[:-1] + alphabet[last ^ 1]  # flips an unused low bit
    assert base64.urlsafe_b64decode(twin.rsplit(".", 1)[1] + "=") == base64.urlsafe_b64decode(
        token.rsplit(".", 1)[1] + "="
    )
    assert rejected(twin) == "malformed_token"


@pytest.mark.parametrize("segment", ["payload", "signature"])
def test_characters_outside_base64url_are_refused(segment):
    header, payload, signature = hmac_signed(HEADER, claims()).split(".")
    if segment == "payload":
        payload = payload[:8] + "+" + payload[9:]
    else:
        signature = "/" + signature[1:]
    assert rejected(f"{header}.{payload}.{signature}") == "malformed_token"


def test_oversized_token_is_refused_before_parsing():
    assert rejected("a" * 5000) == "token_too_large"


def _pem_pair(private_key):
    private = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.mark.parametrize(
    ("algorithm", "make_key"),
    [
        ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
        ("EdDSA", ed25519.Ed25519PrivateKey.generate),
    ],
)
def test_asymmetric_keys_sign_and_verify(algorithm, make_key):
    private, public = _pem_pair(make_key())
    with authtokens(SIGNING_KEYS=[{"kid": "k1", "algorithm": algorithm, "private_key": private}]):
        token = tokens.encode(claims(), token_type=ACCESS)
        assert jwt.get_unverified_header(token)["alg"] == algorithm
        assert tokens.decode(token, token_type=ACCESS)["sub"] == "1"
        # Algorithm confusion: an HMAC "signed" with the public key is refused by construction.
        forged = hmac_signed(
            {"alg": "HS256", "kid": "k1", "typ": ACCESS}, claims(), public.encode()
        )
        assert rejected(forged) == "wrong_algorithm"


def test_retired_but_trusted_key_still_verifies_and_removed_key_does_not():
    old = {"kid": "old", "algorithm": "HS256", "secret": "o" * 32}
    new = {"kid": "new", "algorithm": "HS256", "secret": "n" * 32}
    with authtokens(SIGNING_KEYS=[old], ACTIVE_KID="old"):
        token = tokens.encode(claims(), token_type=ACCESS)
    with authtokens(SIGNING_KEYS=[new, old], ACTIVE_KID="new"):
        assert tokens.decode(token, token_type=ACCESS)
        assert jwt.get_unverified_header(tokens.encode(claims(), token_type=ACCESS))["kid"] == "new"
    with authtokens(SIGNING_KEYS=[new], ACTIVE_KID="new"):
        assert rejected(token) == "unknown_key"
