"""The idle limit of access tokens that never expire (RFC 9700 section 4.14.2).

A never-expiring token unused for ``NON_EXPIRING_IDLE_LIMIT`` is refused and its device
revoked (reason ``idle``). Use is recorded in ``Device.last_used_at``, cheaply: each process
remembers, in a small bounded dict, the latest use it knows the database holds, and writes at
most one conditional UPDATE per device per touch interval (a tenth of the limit, at most a
day), never one per request. The record may lag true use by one interval, so a device may be
revoked after an idle time between ``limit - interval`` and ``limit``, never later.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from . import kinds, tokens
from .conf import app_settings
from .exceptions import TokenRevoked
from .models import Device, Reason
from .revocation import revoke_device

MAX_REMEMBERED = 10_000  # devices per process; a forgotten one costs one more query, no more
MAX_TOUCH_INTERVAL = timedelta(days=1)

_recorded: OrderedDict[str, datetime] = OrderedDict()  # device id -> use the database holds
_lock = threading.Lock()


def reset() -> None:
    """Forget every recorded use (tests; a new process starts empty anyway)."""
    with _lock:
        _recorded.clear()


def touch_interval(limit: timedelta) -> timedelta:
    """How stale ``last_used_at`` may get before a use writes it again."""
    return min(limit / 10, MAX_TOUCH_INTERVAL)


def note_use(claims: dict[str, Any]) -> None:
    """Record a use of the verified access token with ``claims``, if it never expires.

    Raise ``TokenRevoked``, after revoking the device, if it was idle past the limit. Tokens
    with an ``exp`` return at once: their lifetime is their idle limit.
    """
    if "exp" in claims:
        return
    limit = app_settings.NON_EXPIRING_IDLE_LIMIT
    if limit is None:
        return
    now, device_id = tokens.now(), claims["did"]
    interval = touch_interval(limit)
    with _lock:
        known = _recorded.get(device_id)
    if known is not None and now - known < interval:
        return
    _remember(device_id, _touch(device_id, now, limit, interval))


def _touch(device_id: str, now: datetime, limit: timedelta, interval: timedelta) -> datetime:
    """Write the use if the record is stale but not idle; return the use the database holds."""
    # Conditional: never revives a device already idle past the limit, and writes nothing
    # when another process recorded a use within the interval.
    live = Device.objects.filter(pk=device_id, revoked_at__isnull=True)
    if live.filter(last_used_at__lt=now - interval, last_used_at__gte=now - limit).update(
        last_used_at=now
    ):
        return now
    last_used = live.values_list("last_used_at", flat=True).first()
    if last_used is None:  # revoked or deleted meanwhile: the database is the truth
        _forget(device_id)
        raise TokenRevoked()
    if now - last_used > limit:
        revoke_device(device_id, reason=Reason.IDLE)
        _forget(device_id)
        raise TokenRevoked()
    return last_used


def _remember(device_id: str, used_at: datetime) -> None:
    with _lock:
        _recorded[device_id] = used_at
        _recorded.move_to_end(device_id)
        while len(_recorded) > MAX_REMEMBERED:
            _recorded.popitem(last=False)


def _forget(device_id: str) -> None:
    with _lock:
        _recorded.pop(device_id, None)


def idle_devices(now: datetime | None = None) -> QuerySet[Device]:
    """Devices holding a never-expiring access token unused past the limit."""
    limit = app_settings.NON_EXPIRING_IDLE_LIMIT
    if limit is None:
        return Device.objects.none()
    # Each kind says which of its audiences get access tokens that never expire.
    never = Q()
    for kind in kinds.KINDS.values():
        audiences = list(kind.non_expiring_audiences())
        if audiences:
            never |= Q(kind=kind.name, audience__in=audiences)
    if not never:
        return Device.objects.none()
    return Device.objects.filter(
        never, revoked_at__isnull=True, last_used_at__lt=(now or tokens.now()) - limit
    )
