"""RFC 7009 revocation and RFC 7662 introspection: a token of either type, presented as is.

``services.revoke`` and ``services.introspect`` are these functions.
"""

from __future__ import annotations

from typing import Any

from django.utils.crypto import constant_time_compare

from . import credentials, tokens, usage
from .exceptions import NotTokenOwner, TokenError
from .minting import password_digest, refresh_digest
from .models import Device, Reason, RefreshToken
from .refreshing import database_state
from .revocation import revoke_device, revoke_token
from .store import get_store


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
    database_state(claims).check(claims)
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
