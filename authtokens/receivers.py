"""Functions reacting to Django's signals; ``apps.py`` connects them."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import Device
from .store import get_store


def mirror_deleted_device(sender: type, instance: Device, **kwargs: Any) -> None:
    """A deleted device (or user) leaves no row to check: revoke its tokens in the mirror."""
    device_id, expires_at = str(instance.pk), instance.expires_at
    transaction.on_commit(lambda: get_store().device_revoked(device_id, expires_at))
