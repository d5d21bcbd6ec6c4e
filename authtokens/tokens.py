"""Encode and decode authtokens JWTs: header and claim rules, no database, no Redis.

Access tokens carry ``typ: at+jwt`` (RFC 9068 section 2.1); refresh tokens ``typ: rt+jwt``, so
one can never stand in for the other.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from jwt.algorithms import get_default_algorithms

from . import clock
from . import exceptions as exc
from .conf import app_settings
from .keys import Key, get_key_ring

ACCESS = "at+jwt"
REFRESH = "rt+jwt"
REQUIRED_CLAIMS = ("iss", "sub", "aud", "iat", "jti", "did", "gen")
# Names a claims hook may not set: the registered claims (RFC 7519 section 4.1), ours, and the
# JOSE header parameters (RFC 7515 4.1, RFC 7516 4.1, RFC 7797, RFC 8225, RFC 8555), which
# RFC 7519 section 5.3 lets a claim be replicated as: none of them may be shadowed.
RESERVED_CLAIMS = frozenset(
    {
        *("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "did", "gen"),
        *("alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"),
        *("enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c", "b64", "ppt"),
        *("url", "nonce"),
    }
)
PRINTABLE = re.compile(r"[\x21-\x7e]+").fullmatch
B64URL = re.compile(r"[A-Za-z0-9_-]*").fullmatch
# What str(uuid.UUID(value)) gives back: lowercase, hyphenated; the one spelling of a did.
CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch
HMAC_DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
# The last second a datetime can hold (9999-12-31T23:59:59Z): the largest NumericDate
# (RFC 7519 section 2) we accept, so that every one stays a datetime.
MAX_NUMERIC_DATE = 253402300799
MISSING_CLAIM = _("The token lacks the required '{name}' claim.")
INVALID_CLAIM = _("The '{name}' claim is invalid.")


def now() -> datetime:
    """Return the current time, from the app's one clock (``authtokens.clock``)."""
    return clock.now()


def new_jti() -> str:
    """Return a fresh token id: 128 random bits (RFC 7519 section 4.1.7)."""
    return secrets.token_urlsafe(16)


def build_claims(
    *, user_id: str, device_id: str, audience: str, generation: int, expires_at: datetime | None
) -> dict[str, Any]:
    """Return the claims of a new token; ``expires_at=None`` leaves out ``exp``."""
    claims: dict[str, Any] = {
        "iss": app_settings.ISSUER,
        "sub": user_id,
        "aud": audience,
        "iat": int(now().timestamp()),
        "jti": new_jti(),
        "did": device_id,
        "gen": generation,
    }
    if expires_at is not None:
        claims["exp"] = int(expires_at.timestamp())
    return claims


def custom_claims(extra: object, *, source: str) -> dict[str, Any]:
    """Check the claims a hook returned: a dict of JSON values under names of its own.

    Raise ``ValueError``, naming ``source``, for a reserved name or anything else that could
    not become a token we would accept.
    """
    if not isinstance(extra, dict):
        raise ValueError(f"{source} must return a dict of claims, not {type(extra).__name__}.")
    for name in extra:
        if not isinstance(name, str):
            raise ValueError(f"{source} returned a claim name that is not a string: {name!r}.")
    reserved = sorted(set(extra) & RESERVED_CLAIMS)
    if reserved:
        raise ValueError(
            f"{source} may not set the reserved claims {', '.join(reserved)}; "
            "authtokens sets or refuses them itself."
        )
    try:
        json.dumps(extra, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{source} returned claims that are not JSON: {error}.") from None
    return dict(extra)


def encode(claims: dict[str, Any], *, token_type: str) -> str:
    """Sign ``claims`` with the active key."""
    key = get_key_ring().active
    headers = {"kid": key.kid, "typ": token_type}
    token = jwt.encode(claims, key.signing_key, algorithm=key.algorithm, headers=headers)
    if len(token) > app_settings.MAX_TOKEN_LENGTH:  # decode would refuse it: never issue it
        raise ValueError(
            f"A token of {len(token)} characters is longer than MAX_TOKEN_LENGTH "
            f"({app_settings.MAX_TOKEN_LENGTH}); issue fewer or smaller claims."
        )
    return token


def decode(token: object, *, token_type: str) -> dict[str, Any]:
    """Verify ``token`` as ``token_type`` and return its claims, or raise a ``TokenError``.

    The JWS is verified here rather than by PyJWT's ``api_jws.decode``: that parses the header
    again (ours is parsed once per key and cached), prepares the key on every call, and checks
    each base64 character in Python; together twice the cost of everything else in decode.
    The rules are the same (RFC 7515 section 5.2): a strict base64url alphabet, a canonical
    signature encoding, the key and algorithm pinned by ``kid``, a constant-time comparison.
    The claims are checked here, strictly typed. Revocation is not checked here: that is
    ``RevocationState.check``.
    """
    if not isinstance(token, str):
        raise exc.MalformedToken()
    header = _header(token)
    key = _key_for(header, token_type)
    signing_input, _, signature_segment = token.rpartition(".")
    payload = _b64decode(signing_input.partition(".")[2])
    signature = _b64decode(signature_segment)
    if _b64encode(signature) != signature_segment:  # one signature, one spelling
        raise exc.MalformedToken()
    if not _verify(key, signing_input.encode("ascii"), signature):
        raise exc.BadSignature()
    claims = _json_object(payload)
    _check_claims(claims, token_type)
    return claims


def _verify(key: Key, signing_input: bytes, signature: bytes) -> bool:
    digest = HMAC_DIGESTS.get(key.algorithm)
    if digest is not None:  # the common case, in C: no PyJWT call on the hot path
        expected = hmac.digest(key.verifying_key, signing_input, digest)
        return hmac.compare_digest(expected, signature)
    try:
        return bool(
            get_default_algorithms()[key.algorithm].verify(
                signing_input, key.verifying_key, signature
            )
        )
    except (ValueError, TypeError):  # a signature of the wrong shape for the key
        return False


def _b64decode(segment: str) -> bytes:
    """Decode unpadded base64url (RFC 7515 section 2), refusing any other character."""
    if not B64URL(segment) or len(segment) % 4 == 1:
        raise exc.MalformedToken()
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def is_foreign(token: str) -> bool:
    """Whether ``token`` is a JWT of someone else's: its header names no key of our ring and
    its payload no ``iss`` of ours (a djangorestframework-simplejwt token, say).

    Read without verifying anything, only to let another authentication class try the token;
    nothing is ever accepted on this basis. A token that names our kid or our issuer is ours,
    and so is anything we cannot parse or that is too large to: ``decode`` refuses those.
    """
    if len(token) > app_settings.MAX_TOKEN_LENGTH or token.count(".") != 2:
        return False
    header_segment, payload_segment, _ = token.split(".")
    try:
        kid = _parse_header(header_segment).get("kid")
        if isinstance(kid, str) and get_key_ring().get(kid) is not None:
            return False  # our key: the usual case, decided without reading the payload
        payload = _json_object(_b64decode(payload_segment))
    except exc.MalformedToken:
        return False
    return payload.get("iss") != app_settings.ISSUER


def _header(token: str) -> dict[str, Any]:
    if len(token) > app_settings.MAX_TOKEN_LENGTH:  # cap parsing cost before any decoding
        raise exc.TokenTooLarge()
    if token.count(".") != 2:
        raise exc.MalformedToken()
    return _parse_header(token.split(".", 1)[0])


@functools.lru_cache(maxsize=256)
def _parse_header(segment: str) -> dict[str, Any]:
    """Parse a header segment; cached, since every token of one key has the same header.

    Only read, never changed, by its callers; a failure is raised, not cached.
    """
    return _json_object(_b64decode(segment))


def _json_object(data: bytes) -> dict[str, Any]:
    """Parse a JOSE header or claims set: one JSON object, no duplicate names (RFC 7519 4)."""
    try:  # UTF-8 only (RFC 8259 section 8.1); a UnicodeDecodeError is a ValueError
        value = JSON_OBJECT.decode(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise exc.MalformedToken() from None
    if not isinstance(value, dict):
        raise exc.MalformedToken()
    return value


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


JSON_OBJECT = json.JSONDecoder(object_pairs_hook=_refuse_duplicates)  # built once, not per call


def _key_for(header: dict[str, Any], token_type: str) -> Key:
    # Header parameters we do not implement must be refused, not skipped (RFC 7515 4.1.11);
    # jku/x5u/jwk are never fetched or trusted: the key comes from our ring by kid alone.
    # b64 (RFC 7797) changes what is signed and is only valid listed in crit: refused too.
    if "crit" in header or "b64" in header:
        raise exc.UnsupportedHeader()
    kid = header.get("kid")
    key = get_key_ring().get(kid) if isinstance(kid, str) else None
    if key is None:
        raise exc.UnknownKey()
    if header.get("alg") != key.algorithm:
        raise exc.WrongAlgorithm()
    if header.get("typ") != token_type:
        raise exc.WrongTokenType()
    return key


def _check_claims(claims: dict[str, Any], token_type: str) -> None:
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise exc.MissingClaim(format_lazy(MISSING_CLAIM, name=name))
    for name in ("iat", "exp", "nbf"):
        if name in claims and not _is_numeric_date(claims[name]):
            raise exc.InvalidClaim(
                format_lazy(
                    _("The '{name}' claim must be a whole number of seconds, from 0 to {max}."),
                    name=name,
                    max=MAX_NUMERIC_DATE,
                )
            )
    for name, limit in (("sub", 255), ("jti", 64)):
        # Printable ASCII only: they become database values and Redis keys (no NUL, no spaces).
        value = claims[name]
        if not isinstance(value, str) or not 0 < len(value) <= limit or not PRINTABLE(value):
            raise exc.InvalidClaim(format_lazy(INVALID_CLAIM, name=name))
    if not _is_canonical_uuid(claims["did"]):
        raise exc.InvalidClaim(format_lazy(INVALID_CLAIM, name="did"))
    if type(claims["gen"]) is not int or claims["gen"] < 0:
        raise exc.InvalidClaim(format_lazy(INVALID_CLAIM, name="gen"))
    if claims["iss"] != app_settings.ISSUER:
        raise exc.WrongIssuer()
    audience = claims["aud"]
    if not isinstance(audience, str) or not _is_accepted_audience(audience):
        raise exc.WrongAudience()
    if "exp" not in claims and not _may_omit_exp(audience, token_type):
        raise exc.MissingClaim(format_lazy(MISSING_CLAIM, name="exp"))
    _check_times(claims)


def _check_times(claims: dict[str, Any]) -> None:
    """Apply exp, nbf and iat with the leeway (RFC 7519 sections 4.1.4 to 4.1.6)."""
    current, leeway = now().timestamp(), app_settings.LEEWAY.total_seconds()
    if "exp" in claims and claims["exp"] <= current - leeway:
        raise exc.TokenExpired()
    if max(claims["iat"], claims.get("nbf", 0)) > current + leeway:
        raise exc.TokenNotYetValid()


def _is_numeric_date(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_NUMERIC_DATE


def _is_canonical_uuid(value: object) -> bool:
    return isinstance(value, str) and CANONICAL_UUID(value) is not None


def _may_omit_exp(audience: str, token_type: str) -> bool:
    if token_type == REFRESH:
        return app_settings.REFRESH_TOKEN_LIFETIME is None
    return audience in app_settings.NON_EXPIRING_AUDIENCES


def _is_accepted_audience(audience: str) -> bool:
    return audience == app_settings.WEB_AUDIENCE or audience in app_settings.NATIVE_AUDIENCES


def accepted_audiences() -> set[str]:
    """Return every audience this server issues tokens for."""
    return {app_settings.WEB_AUDIENCE, *app_settings.NATIVE_AUDIENCES}


def expires_at(claims: dict[str, Any]) -> datetime | None:
    """Return the ``exp`` of verified claims as an aware datetime, or None if it never expires."""
    exp = claims.get("exp")
    return None if exp is None else datetime.fromtimestamp(exp, tz=UTC)


def lifetime_end(start: datetime, lifetime: timedelta | None) -> datetime | None:
    """Return ``start + lifetime``, or None for a lifetime of None (never expires)."""
    return None if lifetime is None else start + lifetime
