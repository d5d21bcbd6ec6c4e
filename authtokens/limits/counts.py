"""Counting failures and reading the wait, in the shared cache or, while it is away, here.

Fixed windows aligned on the clock, one key per counter and window, ``add`` then ``incr``
(atomic in Redis), expiring with the window; the wait is the time left in the window of the
fullest counter. Keys hold keyed digests, never a username or an address. If the cache
fails, counts move into this process for ``REDIS_RETRY_INTERVAL`` (limits per process, not
none), logged once per outage. The outage state is this module's globals, so ``reset()``,
which clears it, lives here too.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.utils.crypto import salted_hmac

from .. import clock
from ..conf import app_settings
from .rules import Counter, Limit, configured_limits

# The package's name, not this module's: operators filter on "authtokens.limits".
logger = logging.getLogger("authtokens.limits")

try:  # the errors a django-redis cache raises when Redis is away
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import RedisError

    CACHE_ERRORS: tuple[type[Exception], ...] = (ConnectionInterrupted, RedisError, OSError)
except ImportError:  # pragma: no cover - without the redis extra
    CACHE_ERRORS = (OSError,)

KEY_PREFIX = "{authtokens}:limits:"  # the hash tag keeps them in one Redis Cluster slot

# Counts kept in this process while the shared cache is away: limits per process, not none.
_local = LocMemCache("authtokens-limits", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
_shared_cache_back_at = 0.0
_outage = False

T = TypeVar("T")


def reset() -> None:
    """Forget the counts kept in this process and any outage of the shared cache (tests)."""
    global _shared_cache_back_at, _outage
    _local.clear()
    _shared_cache_back_at, _outage = 0.0, False


def _key(counter: Counter, limit: Limit, now: float) -> str:
    # The salt is the package's historical name: keys stay the same across this split, so a
    # deployment keeps the counts in flight.
    digest = salted_hmac(
        "authtokens.limits", f"{counter.name}\n{counter.subject}", algorithm="sha256"
    ).hexdigest()[:32]
    window = int(now // limit.seconds)
    return f"{KEY_PREFIX}{counter.name}:{limit.seconds}:{window}:{digest}"


def _seconds_left(limit: Limit, now: float) -> int:
    """Whole seconds until the current window of ``limit`` ends; at least 1."""
    return max(1, math.ceil(limit.seconds - now % limit.seconds))


def _with_cache(operation: Callable[[BaseCache], T]) -> T:
    global _shared_cache_back_at, _outage
    if time.monotonic() < _shared_cache_back_at:
        return operation(_local)
    try:
        result = operation(caches["default"])
    except CACHE_ERRORS as error:
        _shared_cache_back_at = time.monotonic() + app_settings.REDIS_RETRY_INTERVAL.total_seconds()
        if not _outage:
            _outage = True
            logger.error(
                "Failure-limit cache unreachable (%s); counting per process.", type(error).__name__
            )
        return operation(_local)
    if _outage:
        _outage = False
        logger.warning("Failure-limit cache reachable again; counting in it.")
    return result


def _active(counters: Sequence[Counter]) -> list[tuple[Counter, Limit]]:
    limits = configured_limits()
    return [(c, limit) for c in counters if (limit := limits.get(c.name)) is not None]


def retry_after(counters: Sequence[Counter]) -> int | None:
    """Seconds until every full counter's window ends, or None when none is full."""
    active = _active(counters)
    if not active:
        return None
    now = clock.timestamp()
    keys = [_key(counter, limit, now) for counter, limit in active]
    counts: Mapping[str, Any] = _with_cache(lambda cache: cache.get_many(keys))
    waits = [
        _seconds_left(limit, now)
        for (_, limit), key in zip(active, keys, strict=True)
        if int(counts.get(key) or 0) >= limit.count
    ]
    return max(waits) if waits else None


def _increment(cache: BaseCache, key: str, timeout: int) -> None:
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: this failure starts a new count
        cache.add(key, 1, timeout=timeout)


def record_failure(counters: Sequence[Counter]) -> None:
    """Count one failure on each counter whose limit is in force."""
    active = _active(counters)
    if not active:
        return
    now = clock.timestamp()
    # Each key expires with its window (plus a second of slack for clocks between workers).
    entries = [(_key(c, limit, now), _seconds_left(limit, now) + 1) for c, limit in active]

    def increment_all(cache: BaseCache) -> None:
        for key, timeout in entries:
            _increment(cache, key, timeout)

    _with_cache(increment_all)
