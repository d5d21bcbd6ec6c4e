"""The Python API of authtokens: issue, authenticate, extend, refresh, logout and revoke.

Views, the admin, commands and signal receivers all call these functions; nothing else writes
a token or a revocation.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from . import credentials, kinds, tokens
from .conf import app_settings
from .context import acting_as
from .exceptions import NotExtendable, SessionExpired, TokenRevoked
from .minting import IssuedTokens, current_generation, default_name, mint, refresh_digest
from .models import Device, Reason, RefreshToken
from .refreshing import database_state, refresh
from .revocation import revoke_device, revoke_token, revoke_user
from .store import get_store
from .token_requests import introspect, revoke

# Every name above that callers use as ``services.<name>`` stays importable from here.
__all__ = [
    "DEVICE_NAME_MAX_LENGTH",
    "IssuedTokens",
    "aauthenticate",
    "authenticate",
    "change_password",
    "extend",
    "introspect",
    "issue",
    "logout",
    "logout_all",
    "logout_others",
    "refresh",
    "refresh_digest",
    "reissue",
    "rename_device",
    "revoke",
    "revoke_device",
    "revoke_token",
    "revoke_user",
]


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
    kind = kinds.get(client)
    audience = kind.audience_for(audience)
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
        return mint(device, generation, now, with_refresh=kind.uses_refresh(device))[0]


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
    """Trade a verified access token for a fresh one, within the session's maximum, if the
    device's kind may extend (browsers: ``kinds.WebKind``).

    The old token stays valid until its own ``exp`` (at most one access lifetime), so that
    requests already in flight from other tabs do not fail.
    """
    device = Device.objects.select_related("user").filter(pk=claims["did"]).first()
    if device is None:
        raise TokenRevoked()
    kind = kinds.of(device)  # the device's kind, not the token's aud
    if not kind.extendable:
        raise NotExtendable()
    # Again from the source of truth: a revocation may have landed since the caller checked
    # (a concurrent request revoking this very token), and a new token would escape it.
    database_state(claims).check(claims)
    now = tokens.now()
    _end_on_credential_change(device)
    session_end = kind.session_end(device)
    if session_end is not None and now >= session_end:
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
    generation, with_refresh = current_generation(user), kinds.of(device).uses_refresh(device)
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
