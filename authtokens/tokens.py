"""Encode and decode authtokens JWTs: header and claim rules, no database, no Redis.

Access tokens carry ``typ: at+jwt`` (RFC 9068 section 2.1); refresh tokens ``typ: rt+jwt``, so
one can never stand in for the other.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import clock, jws, kinds
from . import exceptions as exc
from .conf import app_settings
from .keys import get_key_ring

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
# What str(uuid.UUID(value)) gives back: lowercase, hyphenated; the one spelling of a did.
CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch
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

    The JWS (header, key, signature) is verified by ``jws``; the claims are checked here,
    strictly typed. Revocation is not checked here: that is
    ``RevocationState.check``.
    """
    if not isinstance(token, str):
        raise exc.MalformedToken()
    claims = jws.json_object(jws.verified_payload(token, token_type))
    _check_claims(claims, token_type)
    return claims


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
        kid = jws.parse_header(header_segment).get("kid")
        if isinstance(kid, str) and get_key_ring().get(kid) is not None:
            return False  # our key: the usual case, decided without reading the payload
        payload = jws.json_object(jws.b64decode(payload_segment))
    except exc.MalformedToken:
        return False
    return payload.get("iss") != app_settings.ISSUER


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
    return any(audience in kind.non_expiring_audiences() for kind in kinds.KINDS.values())


def _is_accepted_audience(audience: str) -> bool:
    return any(audience in kind.audiences() for kind in kinds.KINDS.values())


def accepted_audiences() -> set[str]:
    """Return every audience this server issues tokens for: those of the registered kinds."""
    return {audience for kind in kinds.KINDS.values() for audience in kind.audiences()}


def expires_at(claims: dict[str, Any]) -> datetime | None:
    """Return the ``exp`` of verified claims as an aware datetime, or None if it never expires."""
    exp = claims.get("exp")
    return None if exp is None else datetime.fromtimestamp(exp, tz=UTC)


def lifetime_end(start: datetime, lifetime: timedelta | None) -> datetime | None:
    """Return ``start + lifetime``, or None for a lifetime of None (never expires)."""
    return None if lifetime is None else start + lifetime
