"""The key ring: signing and verification keys by ``kid``, each pinned to one algorithm."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from jwt.algorithms import get_default_algorithms

from .conf import app_settings

HMAC_ALGORITHMS = {"HS256": 32, "HS384": 48, "HS512": 64}  # minimum key bytes, RFC 7518 3.2
ASYMMETRIC_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}
SUPPORTED_ALGORITHMS = frozenset(HMAC_ALGORITHMS) | ASYMMETRIC_ALGORITHMS
DERIVED_KID = "derived-v1"


@dataclass(frozen=True)
class Key:
    """One key; ``algorithm`` is the only one it is ever used with (RFC 8725 3.1)."""

    kid: str
    algorithm: str
    signing_key: Any  # None for a verify-only key
    verifying_key: Any

    @property
    def is_asymmetric(self) -> bool:
        return self.algorithm in ASYMMETRIC_ALGORITHMS

    def public_jwk(self) -> dict[str, Any]:
        """Return the public half as a JWK (RFC 7517); asymmetric keys only."""
        jwk = get_default_algorithms()[self.algorithm].to_jwk(self.verifying_key, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


@dataclass(frozen=True)
class KeyRing:
    """The active signing key and every key still trusted for verification."""

    active: Key
    by_kid: Mapping[str, Key]

    def get(self, kid: str) -> Key | None:
        return self.by_kid.get(kid)

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.by_kid.values() if key.is_asymmetric]}


def _derived_key_config() -> list[dict[str, Any]]:
    # A namespaced HMAC of SECRET_KEY, so the signing key is never SECRET_KEY itself.
    secret = salted_hmac("authtokens.keys.signing.v1", "", algorithm="sha256").digest()
    return [{"kid": DERIVED_KID, "algorithm": "HS256", "secret": secret}]


def _build_key(entry: Mapping[str, Any]) -> Key:
    kid, algorithm = entry.get("kid"), entry.get("algorithm")
    if not isinstance(kid, str) or not kid:
        raise ImproperlyConfigured("Each AUTHTOKENS SIGNING_KEYS entry needs a non-empty 'kid'.")
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ImproperlyConfigured(
            f"Signing key {kid!r}: algorithm {algorithm!r} is not one of "
            f"{sorted(SUPPORTED_ALGORITHMS)}."
        )
    implementation = get_default_algorithms()[algorithm]
    if algorithm in HMAC_ALGORITHMS:
        secret = entry.get("secret")
        secret = secret.encode() if isinstance(secret, str) else secret
        if not isinstance(secret, bytes) or len(secret) < HMAC_ALGORITHMS[algorithm]:
            raise ImproperlyConfigured(
                f"Signing key {kid!r}: an {algorithm} secret needs at least "
                f"{HMAC_ALGORITHMS[algorithm]} bytes (RFC 7518 section 3.2)."
            )
        return Key(kid, algorithm, secret, secret)
    private_pem, public_pem = entry.get("private_key"), entry.get("public_key")
    if not private_pem and not public_pem:
        raise ImproperlyConfigured(f"Signing key {kid!r} needs 'private_key' or 'public_key'.")
    try:
        private = implementation.prepare_key(private_pem) if private_pem else None
        public = (
            implementation.prepare_key(public_pem) if public_pem else private.public_key()  # type: ignore[union-attr]
        )
    except Exception as exc:  # cryptography raises several types for a bad PEM
        raise ImproperlyConfigured(f"Signing key {kid!r} could not be loaded: {exc}") from exc
    return Key(kid, algorithm, private, public)


def build_key_ring(config: Sequence[Mapping[str, Any]] | None, active_kid: str | None) -> KeyRing:
    """Build a key ring from settings-shaped data; raise ImproperlyConfigured when it is wrong."""
    entries = _derived_key_config() if config is None else list(config)
    if not entries:
        raise ImproperlyConfigured("AUTHTOKENS SIGNING_KEYS must hold at least one key.")
    keys = [_build_key(entry) for entry in entries]
    by_kid = {key.kid: key for key in keys}
    if len(by_kid) != len(keys):
        raise ImproperlyConfigured("AUTHTOKENS SIGNING_KEYS has two keys with the same kid.")
    active = by_kid.get(active_kid or keys[0].kid)
    if active is None:
        raise ImproperlyConfigured(f"AUTHTOKENS ACTIVE_KID {active_kid!r} is not in SIGNING_KEYS.")
    if active.signing_key is None or (
        active.is_asymmetric and not hasattr(active.signing_key, "sign")
    ):
        raise ImproperlyConfigured(
            f"The active key {active.kid!r} has no private key to sign with."
        )
    return KeyRing(active=active, by_kid=by_kid)


_cache: dict[str, KeyRing] = {}
_lock = threading.Lock()


def get_key_ring() -> KeyRing:
    """Return the key ring for the current settings, parsed once per settings change."""
    ring = _cache.get("ring")
    if ring is None:
        with _lock:
            ring = build_key_ring(app_settings.SIGNING_KEYS, app_settings.ACTIVE_KID)
            _cache["ring"] = ring
    return ring


def clear_key_ring_cache(*, setting: str, **kwargs: Any) -> None:
    """Forget the parsed ring when AUTHTOKENS or SECRET_KEY changes (``setting_changed``)."""
    if setting in {"AUTHTOKENS", "SECRET_KEY"}:
        _cache.clear()
