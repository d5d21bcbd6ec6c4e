"""Rate limits on sign-in and refresh: DRF's scoped throttle on the shared cache."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import ScopedRateThrottle

from .conf import app_settings

logger = logging.getLogger("authtokens.throttling")

try:  # the errors a django-redis cache raises when Redis is away
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import RedisError

    CACHE_ERRORS: tuple[type[Exception], ...] = (ConnectionInterrupted, RedisError, OSError)
except ImportError:  # pragma: no cover - without the redis extra
    CACHE_ERRORS = (OSError,)

# Counts kept in this process while the shared cache is away: limits per process, not none.
_local = LocMemCache("authtokens-throttle", {})
_shared_cache_back_at = 0.0


class AuthTokensThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle`` with rates read live from ``AUTHTOKENS["THROTTLE_RATES"]``.

    DRF binds its rates at import time; reading them per request lets ``override_settings``
    and per-deployment settings work. Counts live in the default cache, which must be shared
    between workers (Redis) for the limit to hold across them. If that cache fails, counting
    moves to this process for ``REDIS_RETRY_INTERVAL``: sign-in keeps working, still limited.
    """

    def get_rate(self) -> str | None:
        return app_settings.THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        global _shared_cache_back_at
        if time.monotonic() < _shared_cache_back_at:
            self.cache = _local
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            retry = app_settings.REDIS_RETRY_INTERVAL.total_seconds()
            _shared_cache_back_at = time.monotonic() + retry
            logger.error(
                "Throttle cache unreachable (%s); counting per process.", type(error).__name__
            )
            self.cache = _local
            return super().allow_request(request, view)
