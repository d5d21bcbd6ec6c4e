"""Refresh: trade a refresh token for new tokens, rotating it, and catch a replayed one.

``services.refresh`` is the entry point; this module owns rotation (one live refresh token per
device, a grace window for the one before it) and the reuse detection of RFC 9700.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.crypto import constant_time_compare

from . import credentials, tokens
from .conf import app_settings
from .exceptions import RefreshTokenReused, TokenRevoked
from .minting import IssuedTokens, mint, password_digest, refresh_digest
from .models import Device, Reason, RefreshToken
from .revocation import revoke_device, revoke_user
from .store import RevocationState
from .store.database import DatabaseStore


def database_state(claims: dict[str, Any]) -> RevocationState:
    """The revocation state from the source of truth, not the mirror: for the rare calls
    that write rows anyway (extend, refresh, introspecting a refresh token)."""
    return DatabaseStore().get_state(claims)


def refresh(token: object) -> IssuedTokens:
    """Trade a refresh token for new tokens, rotating it; a replayed one signs the device out.

    A device has one live refresh token at any moment: the one not yet rotated. The token
    just before it, replayed less than ``REFRESH_REUSE_GRACE`` after its first rotation (two
    tabs, a retried request), is served too, and the new token it gets displaces the live
    one, which dies. Any other rotated token is theft (RFC 9700 section 4.14.2) and revokes
    the device, so the thief's and the victim's copies both stop working.
    """
    claims = tokens.decode(token, token_type=tokens.REFRESH)
    # The source of truth, not the mirror: a refresh is rare, and writes rows anyway.
    database_state(claims).check(claims)
    with transaction.atomic():
        # The device's row lock serializes every refresh of the device (on PostgreSQL), and
        # its token row is read only once the lock is held: it shows the previous one's work.
        device = (
            Device.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=claims["did"], revoked_at__isnull=True)
            .first()
        )
        digest = refresh_digest(claims["jti"])
        row = None if device is None else device.refresh_tokens.filter(digest=digest).first()
        if device is None or row is None:
            raise TokenRevoked()
        now = tokens.now()
        user = device.user
        user_reason = _user_revocation_reason(row, user)
        failure = None if user_reason else _refresh_failure(row, device, now)
        if user_reason is None and failure is None:
            issued = _rotate(row, device, claims["gen"], now)
    if user_reason is not None:
        # Changed where no signal saw it (QuerySet.update): end every token. Outside the
        # block above, so that this user-level lock is never taken after the device's.
        revoke_user(user, reason=user_reason)
        raise TokenRevoked()
    if failure is not None:  # raised after the block, so that the revocation commits
        raise failure
    return issued


def _user_revocation_reason(row: RefreshToken, user: Any) -> str | None:
    """Why every token of ``user`` must end, if a change no signal saw says so, else None."""
    if not constant_time_compare(row.password_digest, password_digest(user)):
        return Reason.PASSWORD_CHANGE
    if not credentials.is_active(user):  # no is_active at all counts as active
        return Reason.USER_DEACTIVATED
    return None


def _refresh_failure(row: RefreshToken, device: Device, now: datetime) -> TokenRevoked | None:
    """Revoke what a stale or replayed refresh token reveals and return the error, or None."""
    idle_limit = app_settings.REFRESH_IDLE_LIMIT
    if idle_limit is not None and now - device.last_used_at > idle_limit:
        revoke_device(device, reason=Reason.IDLE)
        return TokenRevoked()
    if row.rotated_at is not None and _live_successor(row, now) is None:
        revoke_device(device, reason=Reason.REUSE_DETECTED)
        return RefreshTokenReused()
    return None


def _live_successor(row: RefreshToken, now: datetime) -> RefreshToken | None:
    """The live token that a rotated ``row`` may still displace, or None (``row`` is reuse).

    Only the token just before the live one, and only within the grace window measured from
    its first rotation: serving it again does not restart the window.
    """
    if row.rotated_at is None or now - row.rotated_at > app_settings.REFRESH_REUSE_GRACE:
        return None
    successor = row.replaced_by
    return successor if successor is not None and successor.rotated_at is None else None


def _rotate(row: RefreshToken, device: Device, generation: int, now: datetime) -> IssuedTokens:
    """Issue new tokens for the live token ``row``, or for the one before it (in grace).

    Called under the device's lock: afterwards the device has exactly one live refresh token.
    """
    displaced = _live_successor(row, now)  # None for the live token itself
    issued, successor = mint(
        device, generation, now, with_refresh=app_settings.ROTATE_REFRESH_TOKENS
    )
    if successor is None:  # rotation turned off: the presented token stays as it is
        return issued
    if displaced is not None:
        # Dead: rotated, and nobody's predecessor, so it is neither live nor ever served.
        displaced.rotated_at = now
        displaced.save(update_fields=["rotated_at"])
        row.replaced_by = successor  # rotated_at kept: the window cannot be stretched
        row.save(update_fields=["replaced_by"])
    else:
        row.rotated_at, row.replaced_by = now, successor
        row.save(update_fields=["rotated_at", "replaced_by"])
    return issued
