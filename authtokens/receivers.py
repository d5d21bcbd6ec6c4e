"""Functions reacting to Django's signals; ``apps.py`` connects them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist

from .context import changing_device, current_actor
from .models import DeletedDevice, Device, Reason
from .revocation import mirror_on_commit, revoke_user

PENDING = "_authtokens_pending_revocation"


def mirror_deleted_device(sender: type, instance: Device, **kwargs: Any) -> None:
    """A deleted device (or user) leaves no row to check: keep a tombstone, so that a rebuilt
    mirror still revokes its tokens, and revoke them in the mirror now."""
    device_id, expires_at, owner = str(instance.pk), instance.expires_at, str(instance.user_id)
    DeletedDevice.objects.update_or_create(
        device_id=instance.pk, defaults={"expires_at": expires_at, "user_id": owner}
    )
    mirror_on_commit(
        lambda store: store.device_revoked(device_id, expires_at, user_id=owner), owner
    )


def note_credential_change(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """pre_save of the user: note a new password or a deactivation, whatever made it.

    Django has no "password changed" signal; comparing with the stored row catches the admin
    form, the reset and change views, ``changepassword`` and ``set_password()`` + ``save()``.
    """
    instance.__dict__.pop(PENDING, None)
    if raw or instance._state.adding:
        return
    watched = _watched_fields(sender, update_fields)
    if not watched:
        return
    stored = sender._default_manager.filter(pk=instance.pk).values(*watched).first()
    if stored is None:
        return
    if "password" in stored and stored["password"] != instance.password:
        instance.__dict__[PENDING] = Reason.PASSWORD_CHANGE
    elif stored.get("is_active") and not instance.is_active:
        instance.__dict__[PENDING] = Reason.USER_DEACTIVATED


def revoke_on_credential_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save of the user: revoke what ``note_credential_change`` noted, in the same
    transaction as the save, so that a rolled-back change revokes nothing."""
    reason = instance.__dict__.pop(PENDING, None)
    if reason is None:
        return
    keep = changing_device.get() if reason == Reason.PASSWORD_CHANGE else None
    revoke_user(instance, reason=reason, actor=current_actor(), keep_device=keep)


def _watched_fields(user_model: Any, update_fields: Any) -> set[str]:
    watched = set()
    for name in ("password", "is_active"):
        try:
            user_model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        watched.add(name)
    return watched if update_fields is None else watched & set(update_fields)
