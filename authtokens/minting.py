"""Issue tokens to a device: expiries from its kind's policy, refresh-token rows and digests.

The internals of ``services``; nothing outside it calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.functions import Greatest
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from . import kinds, tokens
from .clients import describe
from .conf import app_settings
from .exceptions import TokenRevoked
from .models import Device, RefreshToken, UserTokenState
from .revocation import mirror_device_on_commit
from .signals import tokens_issued

NEVER = Value(None, output_field=DateTimeField())  # an expiry of "never"


@dataclass(frozen=True)
class IssuedTokens:
    """What a sign-in, extend or refresh hands the client."""

    access: str
    access_expires_at: datetime | None
    device: Device
    refresh: str | None = None
    refresh_expires_at: datetime | None = None


def password_digest(user: Any) -> str:
    """Return a keyed digest of ``user``'s password hash (as ``get_session_auth_hash`` does)."""
    return salted_hmac(
        "authtokens.password.v1", user.password or "", algorithm="sha256"
    ).hexdigest()


def current_generation(user: Any) -> int:
    generations = UserTokenState.objects.filter(user_id=user.pk).values_list(
        "generation", flat=True
    )
    return generations.first() or 0


def refresh_digest(jti: str) -> str:
    """Return the keyed digest a refresh token is stored under (never the token itself)."""
    return salted_hmac("authtokens.refresh-token.v1", jti, algorithm="sha256").hexdigest()


def mint(
    device: Device, generation: int, now: datetime, *, with_refresh: bool
) -> tuple[IssuedTokens, RefreshToken | None]:
    """Issue an access token (and a refresh token) to a device that is not revoked.

    Lifetimes come from the device's kind (``kinds.py``). A refused hook or an oversized
    token raises ``ValueError`` and the caller's transaction rolls back: nothing is written
    for a token that is never handed out.
    """
    extra = hook_claims(device)  # before any write
    kind = kinds.of(device)
    access_expires_at = kind.access_expiry(device, now)
    refresh_expires_at = tokens.lifetime_end(now, kind.refresh_lifetime(device))
    _extend_device(
        device, now, _latest(access_expires_at, refresh_expires_at if with_refresh else now)
    )
    # The hook's claims first, so that ours are never shadowed (custom_claims refuses them).
    access_claims = {**extra, **_claims(device, generation, access_expires_at)}
    access = tokens.encode(access_claims, token_type=tokens.ACCESS)
    refresh_token, row = None, None
    if with_refresh:
        refresh_token, row = _refresh_token(device, generation, now, refresh_expires_at)
    issued = IssuedTokens(
        access,
        access_expires_at,
        device,
        refresh_token,
        refresh_expires_at if with_refresh else None,
    )
    transaction.on_commit(
        lambda: tokens_issued.send(
            sender=Device, user_id=device.user_id, device=device, tokens=issued
        )
    )
    return issued, row


def _extend_device(device: Device, now: datetime, handed_out: datetime | None) -> None:
    """Record the use and the latest expiry handed out, or raise ``TokenRevoked``."""
    # Conditional on "not revoked": a revocation that committed meanwhile wins, and the row
    # lock taken here makes a concurrent revocation read the expiry we are about to hand out.
    # The expiry only moves forward, computed in the database: our copy of the row may be old.
    later = Case(
        When(expires_at__isnull=True, then=NEVER),
        default=Greatest(F("expires_at"), Value(handed_out)),
    )
    updated = Device.objects.filter(pk=device.pk, revoked_at__isnull=True).update(
        last_used_at=now,
        expires_at=NEVER if handed_out is None else later,
    )
    if not updated:
        raise TokenRevoked()
    mirror_device_on_commit(str(device.pk), str(device.user_id), handed_out)
    device.last_used_at, device.expires_at = now, _latest(device.expires_at, handed_out)


def _refresh_token(
    device: Device, generation: int, now: datetime, expires_at: datetime | None
) -> tuple[str, RefreshToken]:
    """A new refresh token for ``device`` and its row (which keeps only a digest)."""
    claims = _claims(device, generation, expires_at)
    token = tokens.encode(claims, token_type=tokens.REFRESH)
    row = RefreshToken.objects.create(
        digest=refresh_digest(claims["jti"]),
        password_digest=password_digest(device.user),
        device=device,
        issued_at=now,
        expires_at=expires_at,
    )
    return token, row


def hook_claims(device: Device) -> dict[str, Any]:
    """The extra claims ``CLAIMS_HOOK(user, device)`` gives the device's next access token."""
    path = app_settings.CLAIMS_HOOK
    if path is None:
        return {}
    hook = import_string(path)
    return tokens.custom_claims(hook(device.user, device), source=f"CLAIMS_HOOK {path!r}")


def _claims(device: Device, generation: int, expires_at: datetime | None) -> dict[str, Any]:
    return tokens.build_claims(
        user_id=str(device.user_id),
        device_id=str(device.pk),
        audience=device.audience,
        generation=generation,
        expires_at=expires_at,
    )


def _latest(*moments: datetime | None) -> datetime | None:
    """Return the latest moment, where None means "never expires" and so wins."""
    return None if None in moments else max(moments)  # type: ignore[type-var]


def uses_refresh(device: Device) -> bool:
    return kinds.of(device).uses_refresh(device)


def audience_for(client: str, audience: str | None) -> str:
    return kinds.get(client).audience_for(audience)


def default_name(client: str, audience: str, user_agent: str = "") -> str:
    """Name an unnamed device as people know it: "Chrome on macOS", "ShopApp on iOS", "curl";
    else as its kind does ("Web browser", or the app's audience)."""
    name = describe(user_agent).name
    if name:
        return name[: Device._meta.get_field("name").max_length]
    return kinds.get(client).default_name(audience)
