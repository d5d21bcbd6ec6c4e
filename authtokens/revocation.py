"""Revoke tokens at every level, and the one rule that decides whether a token is revoked.

Each revocation writes the database first, in a transaction, and mirrors it into the
revocation store on commit, so a rolled-back revocation never reaches Redis and a committed
one is never lost with Redis (README, Guarantees: "Redis flushed, restarted empty or
failed over empty never brings a revoked token back").
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction

from . import clock, tokens
from .models import (
    Device,
    Reason,
    RevocationEvent,
    RevokedAccessToken,
    UserTokenState,
)
from .signals import tokens_revoked
from .store import RevocationStore, get_store, outbox

logger = logging.getLogger("authtokens.revocation")


def revoke_token(claims: dict[str, Any], *, reason: str, actor: Any = None) -> bool:
    """Revoke the single access token with these verified claims; return False if it was."""
    jti, expires_at, user_id = claims["jti"], tokens.expires_at(claims), claims["sub"]
    device_id = claims["did"] if Device.objects.filter(pk=claims["did"]).exists() else None
    with transaction.atomic():
        _, created = RevokedAccessToken.objects.get_or_create(
            jti=jti,
            defaults={
                "user_id": claims["sub"],
                "device_id": device_id,
                "expires_at": expires_at,
                "reason": reason,
            },
        )
        if created:
            _record(RevocationEvent.Level.TOKEN, reason, claims["sub"], device_id, actor)
            mirror_on_commit(
                lambda store: store.token_revoked(jti, expires_at, user_id=user_id),
                user_id,
            )
    return created


def revoke_device(device: Device | uuid.UUID | str, *, reason: str, actor: Any = None) -> bool:
    """Revoke a device and every token issued to it; return False if it already was."""
    device_id: Any = getattr(device, "pk", device)
    with transaction.atomic():
        # The row lock orders us after any refresh that is extending this device's expiry,
        # so the mirror's TTL below covers every token the device was ever given.
        locked = Device.objects.select_for_update().filter(pk=device_id, revoked_at__isnull=True)
        target = locked.first()
        if target is None:
            return False
        target.revoked_at, target.revoked_reason = clock.now(), reason
        target.save(update_fields=["revoked_at", "revoked_reason"])
        _record(RevocationEvent.Level.DEVICE, reason, target.user_id, target.pk, actor)
        device_key, expires_at, owner = str(target.pk), target.expires_at, str(target.user_id)
        mirror_on_commit(
            lambda store: store.device_revoked(device_key, expires_at, user_id=owner), owner
        )
    return True


def revoke_user(user: Any, *, reason: str, actor: Any = None, keep_device: Any = None) -> int:
    """Revoke every token of ``user`` in O(1): bump their generation; return the new one.

    ``keep_device`` stays unrevoked, so that it can be issued tokens under the new generation
    (the device that changed its own password); its current tokens are revoked all the same.
    """
    now = clock.now()
    with transaction.atomic():
        state, _ = UserTokenState.objects.select_for_update().get_or_create(user_id=user.pk)
        state.generation += 1
        state.save(update_fields=["generation"])
        # One statement marks the devices for people reading the list; the generation
        # alone already rejects their tokens, so Redis gets a single write whatever the count.
        Device.objects.filter(user_id=user.pk, revoked_at__isnull=True).exclude(
            pk=keep_device
        ).update(revoked_at=now, revoked_reason=reason)
        _record(RevocationEvent.Level.USER, reason, user.pk, None, actor)
        user_key, generation = str(user.pk), state.generation
        mirror_on_commit(lambda store: store.user_revoked(user_key, generation), user_key)
    return generation


def mirror_on_commit(write: Callable[[RevocationStore], bool], user_id: Any) -> None:
    """Copy a revocation to the store after commit, through a transactional outbox row.

    The row commits with the revocation and is deleted once the copy succeeds, so a copy that
    failed, or whose process died first, is noticed by every other process (README, Guarantees:
    "Redis unreachable from the revoking process only ... or that process died between
    commit and copy").
    """
    store = get_store()
    if store.mirrors:
        outbox.copy_on_commit(lambda: write(store), user_id)


def mirror_device_on_commit(device_id: str, user_id: str, expires_at: Any) -> None:
    """Copy a live device and its owner to the store after commit, so that a mirror can refuse
    tokens of devices it does not know, as the database does. Not a revocation: no outbox row;
    a failed copy only makes the mirror cold (the store's guard drops its marker)."""
    store = get_store()
    if store.mirrors:
        transaction.on_commit(lambda: store.device_issued(device_id, user_id, expires_at))


def _record(level: str, reason: str, user_id: Any, device_id: Any, actor: Any) -> None:
    actor_id = getattr(actor, "pk", None)
    RevocationEvent.objects.create(
        level=level, reason=reason, user_id=user_id, device_id=device_id, actor_id=actor_id
    )
    logger.info(
        "Revoked %s (reason=%s, user=%s, device=%s, actor=%s)",
        level,
        reason,
        user_id,
        device_id,
        actor_id if actor_id is not None else "system",
    )
    transaction.on_commit(
        lambda: tokens_revoked.send(
            sender=RevocationEvent,
            level=level,
            user_id=user_id,
            device_id=device_id,
            reason=reason,
            actor=actor,
        )
    )


__all__ = ["Reason", "revoke_device", "revoke_token", "revoke_user"]
