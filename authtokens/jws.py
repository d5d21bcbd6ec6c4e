"""The JWS of an authtokens JWT (RFC 7515): header, key, signature; claims are ``tokens``'.

Verified here rather than by PyJWT's ``api_jws.decode``: that parses the header again (ours
is parsed once per key and cached), prepares the key on every call, and checks each base64
character in Python; together twice the cost of everything else in decode. The rules are
the same (RFC 7515 section 5.2): a strict base64url alphabet, a canonical signature encoding,
the key and algorithm pinned by ``kid``, a constant-time comparison.
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import re
from typing import Any

from jwt.algorithms import get_default_algorithms

from . import exceptions as exc
from .conf import app_settings
from .keys import Key, get_key_ring

B64URL = re.compile(r"[A-Za-z0-9_-]*").fullmatch
HMAC_DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}


def verified_payload(token: str, token_type: str) -> bytes:
    """Return the payload of ``token`` once its header, key and signature hold, or raise."""
    key = key_for(header_of(token), token_type)
    signing_input, _, signature_segment = token.rpartition(".")
    payload = b64decode(signing_input.partition(".")[2])
    signature = b64decode(signature_segment)
    if b64encode(signature) != signature_segment:  # one signature, one spelling
        raise exc.MalformedToken()
    if not verify_signature(key, signing_input.encode("ascii"), signature):
        raise exc.BadSignature()
    return payload


def verify_signature(key: Key, signing_input: bytes, signature: bytes) -> bool:
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


def b64decode(segment: str) -> bytes:
    """Decode unpadded base64url (RFC 7515 section 2), refusing any other character."""
    if not B64URL(segment) or len(segment) % 4 == 1:
        raise exc.MalformedToken()
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def header_of(token: str) -> dict[str, Any]:
    if len(token) > app_settings.MAX_TOKEN_LENGTH:  # cap parsing cost before any decoding
        raise exc.TokenTooLarge()
    if token.count(".") != 2:
        raise exc.MalformedToken()
    return parse_header(token.split(".", 1)[0])


@functools.lru_cache(maxsize=256)
def parse_header(segment: str) -> dict[str, Any]:
    """Parse a header segment; cached, since every token of one key has the same header.

    Only read, never changed, by its callers; a failure is raised, not cached.
    """
    return json_object(b64decode(segment))


def json_object(data: bytes) -> dict[str, Any]:
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


def key_for(header: dict[str, Any], token_type: str) -> Key:
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
