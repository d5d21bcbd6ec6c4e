"""Revocation stores: pick one with ``AUTHTOKENS["REVOCATION_STORE"]``."""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string

from ..conf import app_settings
from .base import RevocationState, RevocationStore

_stores: dict[str, RevocationStore] = {}


def get_store() -> RevocationStore:
    """Return this process's instance of the configured store."""
    path = app_settings.REVOCATION_STORE
    store = _stores.get(path)
    if store is None:
        store = _stores[path] = import_string(path)()
    return store


def clear_store_cache(*, setting: str, **kwargs: Any) -> None:
    """Forget store instances when AUTHTOKENS changes (``setting_changed``)."""
    if setting in {"AUTHTOKENS", "CACHES"}:
        reset_stores()


def reset_stores() -> None:
    """Close and forget every store instance of this process."""
    for store in _stores.values():
        store.close()
    _stores.clear()


__all__ = ["RevocationState", "RevocationStore", "get_store"]
