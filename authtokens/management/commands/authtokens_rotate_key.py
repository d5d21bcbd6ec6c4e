"""Generate a new signing key and print the SIGNING_KEYS that rotate to it."""

from __future__ import annotations

import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core.management.base import BaseCommand, CommandError

from authtokens import clock
from authtokens.conf import app_settings
from authtokens.keys import DERIVED_KID, HMAC_ALGORITHMS

GENERATORS: dict[str, Any] = {
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}


class Command(BaseCommand):
    help = (
        "Print a SIGNING_KEYS list (JSON) whose first, active key is new. Deploy it as the "
        "AUTHTOKENS_SIGNING_KEYS environment variable (or in settings). The old keys stay "
        "trusted for verification, unless --retire-old drops them: every token they signed "
        "is then refused, the 'everyone' level of revocation."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--algorithm",
            default="HS256",
            choices=[*HMAC_ALGORITHMS, *GENERATORS],
        )
        parser.add_argument("--kid", help="Key id; default: the algorithm and today's date.")
        parser.add_argument("--retire-old", action="store_true", help="Drop every old key.")

    def handle(self, *args: Any, **options: Any) -> None:
        algorithm = options["algorithm"]
        kid = options["kid"] or f"{algorithm.lower()}-{clock.now():%Y%m%d-%H%M%S}"
        current = list(app_settings.SIGNING_KEYS or [])
        if any(key.get("kid") == kid for key in current) or kid == DERIVED_KID:
            raise CommandError(f"The kid {kid!r} is already in use.")
        if app_settings.SIGNING_KEYS is None and not options["retire_old"]:
            self.stderr.write(
                "Note: the current key is derived from SECRET_KEY and cannot be listed; "
                "tokens it signed stop verifying once this list is deployed."
            )
        keys = [_new_key(kid, algorithm)] + ([] if options["retire_old"] else current)
        self.stdout.write(json.dumps(keys, default=_text))


def _new_key(kid: str, algorithm: str) -> dict[str, str]:
    if algorithm in HMAC_ALGORITHMS:
        return {"kid": kid, "algorithm": algorithm, "secret": secrets.token_urlsafe(64)}
    pem = GENERATORS[algorithm]().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {"kid": kid, "algorithm": algorithm, "private_key": pem.decode()}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"Cannot serialise {type(value).__name__} in SIGNING_KEYS")
