"""The Python API of authtokens: issue, authenticate, extend, refresh, logout and revoke.

Views, the admin, commands and signal receivers all call these functions; nothing else writes
a token or a revocation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils.crypto import constant_time_compare

from . import credentials, tokens, usage
from .conf import app_settings
from .context import acting_as
from .exceptions import (
    NotExtendable,
    NotTokenOwner,
    RefreshTokenReused,
    SessionExpired,
    TokenError,
    TokenRevoked,
)
from .minting import (
    IssuedTokens,
    audience_for,
    current_generation,
    default_name,
    mint,
    password_digest,
    refresh_digest,
    uses_refresh,
)
from .models import Device, Reason, RefreshToken
from .revocation import revoke_device, revoke_token, revoke_user
from .store import RevocationState, get_store
from .store.database import DatabaseStore


def issue(
    user: Any,
    *,
    client: str = Device.Kind.WEB,
    audience: str | None = None,
    device_name: str = "",
    user_agent: str = "",
    ip_address: str | None = None,
) -> IssuedTokens:
    """Sign ``user`` in on a new device and return its tokens.

    For code that has authenticated the user itself (after a social login, say); the API
    view checks the password first. ``audience`` is required for native clients.
    """
    audience = audience_for(client, audience)
    now = tokens.now()
    with transaction.atomic():
        generation = current_generation(user)
        device = Device.objects.create(
            user=user,
            name=device_name or default_name(client, audience, user_agent),
            kind=client,
            audience=audience,
            user_agent=user_agent[:256],
            ip_address=ip_address,
            created_at=now,
            last_used_at=now,
            expires_at=now,
            credential_digest=credentials.digest(user),
        )
        return mint(device, generation, now, with_refresh=uses_refresh(device))[0]


def authenticate(token: object) -> dict[str, Any]:
    """Verify an access token at every level and return its claims, or raise ``TokenError``."""
    claims = tokens.decode(token, token_type=tokens.ACCESS)
    get_store().get_state(claims).check(claims)
    return claims


async def aauthenticate(token: object) -> dict[str, Any]:
    """``authenticate`` for async code (an ``async def`` view under ASGI): the same checks,
    run in a thread, since the store may query the database."""
    return await sync_to_async(authenticate)(token)


def extend(claims: dict[str, Any]) -> IssuedTokens:
    """Trade a verified web access token for a fresh one, within the session's maximum.

    The old token stays valid until its own ``exp`` (at most one access lifetime), so that
    requests already in flight from other tabs do not fail.
    """
    if claims["aud"] != app_settings.WEB_AUDIENCE:
        raise NotExtendable()
    # Again from the source of truth: a revocation may have landed since the caller checked
    # (a concurrent request revoking this very token), and a new token would escape it.
    _database_state(claims).check(claims)
    now = tokens.now()
    device = Device.objects.select_related("user").filter(pk=claims["did"]).first()
    if device is None:
        raise TokenRevoked()
    _end_on_credential_change(device)
    if now >= device.created_at + app_settings.WEB_SESSION_MAX_LIFETIME:
        raise SessionExpired()
    with transaction.atomic():
        return mint(device, claims["gen"], now, with_refresh=False)[0]


def _end_on_credential_change(device: Device) -> None:
    """Revoke every token of the device's user, and raise ``TokenRevoked``, if the user was
    deactivated or their password changed where no signal saw it (``QuerySet.update``)."""
    reason = credentials.change_reason(device.credential_digest, device.user)
    if reason is not None:
        revoke_user(device.user, reason=reason)
        raise TokenRevoked()


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
    _database_state(claims).check(claims)
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


def _database_state(claims: dict[str, Any]) -> RevocationState:
    return DatabaseStore().get_state(claims)


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


def change_password(user: Any, new_password: str, *, claims: dict[str, Any]) -> IssuedTokens | None:
    """Set ``user``'s password from the device in ``claims``; sign out every other device.

    With ``KEEP_DEVICE_ON_PASSWORD_CHANGE`` the calling device stays signed in and gets fresh
    tokens under the new generation (returned); otherwise it is signed out too (None).
    """
    keep = claims["did"] if app_settings.KEEP_DEVICE_ON_PASSWORD_CHANGE else None
    with transaction.atomic(), acting_as(user, device_id=keep):
        user.set_password(new_password)
        user.save()  # the user's post_save revokes (receivers.revoke_on_credential_change)
        return None if keep is None else reissue(user, keep)


def logout(claims: dict[str, Any], *, actor: Any = None) -> None:
    """Sign out the device that holds the token with these claims."""
    revoke_device(claims["did"], reason=Reason.LOGOUT, actor=actor)


def logout_others(user: Any, *, claims: dict[str, Any]) -> IssuedTokens:
    """Sign ``user`` out of every device but the one in ``claims``, in O(1) like logout-all;
    that device gets fresh tokens under the new generation (returned)."""
    with transaction.atomic():
        revoke_user(user, reason=Reason.LOGOUT_ALL, actor=user, keep_device=claims["did"])
        return reissue(user, claims["did"])


def reissue(user: Any, device_id: str) -> IssuedTokens:
    """Issue tokens under ``user``'s current generation to a device a user revocation kept."""
    device = Device.objects.select_related("user").get(pk=device_id)
    # Record the credentials its new tokens are issued under (a new password, say): with the
    # old record, authtokens_reconcile would sign out the very device that made the change.
    device.credential_digest = credentials.digest(device.user)
    Device.objects.filter(pk=device.pk).update(credential_digest=device.credential_digest)
    now = tokens.now()
    generation, with_refresh = current_generation(user), uses_refresh(device)
    issued, successor = mint(device, generation, now, with_refresh=with_refresh)
    if successor is not None:  # the device keeps exactly one live refresh token
        RefreshToken.objects.filter(device=device, rotated_at__isnull=True).exclude(
            pk=successor.pk
        ).update(rotated_at=now)  # displaced: its generation is refused anyway
    return issued


DEVICE_NAME_MAX_LENGTH: int = Device._meta.get_field("name").max_length or 100


def rename_device(device: Device, name: str) -> Device:
    """Give ``device`` the name its owner chose; the site page and the account panel both call
    this. Whitespace is collapsed; an empty name (or one over the limit) is refused."""
    cleaned = " ".join(str(name).split())
    if not cleaned or len(cleaned) > DEVICE_NAME_MAX_LENGTH:
        raise ValueError(f"a device name has 1 to {DEVICE_NAME_MAX_LENGTH} characters")
    Device.objects.filter(pk=device.pk).update(name=cleaned)
    device.name = cleaned
    return device


def logout_all(user: Any) -> None:
    """Sign ``user`` out of every device."""
    revoke_user(user, reason=Reason.LOGOUT_ALL, actor=user)


def revoke(token: object, *, user: Any, token_type_hint: str | None = None) -> None:
    """Revoke an access or refresh token of ``user`` with RFC 7009 semantics.

    An invalid, expired or unknown token is not an error (RFC 7009 section 2.2). Revoking a
    refresh token revokes its device, and with it the access tokens issued to that device
    (section 2.1).
    """
    decoded = _decode_either(token, token_type_hint)
    if decoded is None:
        return
    token_type, claims = decoded
    if claims["sub"] != str(user.pk):
        raise NotTokenOwner()
    if token_type == tokens.ACCESS:
        revoke_token(claims, reason=Reason.TOKEN, actor=user)
    else:
        revoke_device(claims["did"], reason=Reason.TOKEN, actor=user)


def introspect(token: object, *, token_type_hint: str | None = None) -> dict[str, Any] | None:
    """Return the claims and type of an active token, or None (RFC 7662 section 2.2).

    Active means valid by every rule and at every revocation level, as for authentication;
    a refresh token must also be the current one of its rotation. Unlike the hot path, it
    reads the user: a user deactivated, or whose password changed, even behind the ORM's back
    (``QuerySet.update``), has no active token. A never-expiring access token idle past
    ``NON_EXPIRING_IDLE_LIMIT`` is not active; introspecting one counts as its use.
    """
    decoded = _decode_either(token, token_type_hint)
    if decoded is None:
        return None
    token_type, claims = decoded
    try:
        if token_type == tokens.ACCESS:
            get_store().get_state(claims).check(claims)
            usage.note_use(claims)
            device = Device.objects.select_related("user").filter(pk=claims["did"]).first()
            if not _credentials_unchanged(device):
                return None
        elif not _is_current_refresh_token(claims):
            return None
    except TokenError:
        return None
    return {
        **claims,
        "token_type": "access_token" if token_type == tokens.ACCESS else "refresh_token",
    }


def _is_current_refresh_token(claims: dict[str, Any]) -> bool:
    _database_state(claims).check(claims)
    row = (
        RefreshToken.objects.select_related("device__user")
        .filter(digest=refresh_digest(claims["jti"]), rotated_at__isnull=True)
        .first()
    )
    return (
        row is not None
        and constant_time_compare(row.password_digest, password_digest(row.device.user))
        and _credentials_unchanged(row.device)
    )


def _credentials_unchanged(device: Device | None) -> bool:
    """Whether ``device`` exists and its user is active, with the credentials its tokens
    were issued under."""
    return (
        device is not None
        and credentials.change_reason(device.credential_digest, device.user) is None
    )


def _decode_either(token: object, hint: str | None) -> tuple[str, dict[str, Any]] | None:
    """Decode ``token`` as an access or a refresh token, the hinted type first."""
    order = [tokens.REFRESH, tokens.ACCESS]
    if hint != "refresh_token":
        order.reverse()
    for token_type in order:
        try:
            return token_type, tokens.decode(token, token_type=token_type)
        except TokenError:
            continue
    return None
