"""Checks of the Redis the Redis revocation store relies on: none when another store is used.

A Redis that fails open, hangs without a timeout or evicts keys would turn an outage or memory
pressure into revoked tokens accepted, which the store's fallback to the database cannot see.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from ..conf import app_settings

REDIS_STORE = "authtokens.store.redis.RedisStore"
EVICTING_POLICIES_OK = {"noeviction"}


@register("authtokens")
def check_redis(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """With the Redis store: refuse fail-open options, require timeouts, warn on eviction."""
    if app_settings.REVOCATION_STORE != REDIS_STORE:
        return []
    alias = app_settings.REDIS_CACHE_ALIAS
    cache: dict[str, Any] | None = settings.CACHES.get(alias)
    if cache is None or not cache.get("BACKEND", "").startswith("django_redis."):
        return [
            Error(
                f"The Redis revocation store needs CACHES[{alias!r}] to use django-redis.",
                id="authtokens.E010",
            )
        ]
    options = cache.get("OPTIONS", {})
    problems: list[Error | Warning] = []
    if options.get("IGNORE_EXCEPTIONS") or getattr(
        settings, "DJANGO_REDIS_IGNORE_EXCEPTIONS", False
    ):
        problems.append(
            Error(
                "IGNORE_EXCEPTIONS turns a Redis outage into 'not revoked' (fail open).",
                hint=f"Remove IGNORE_EXCEPTIONS from CACHES[{alias!r}]; authtokens falls "
                "back to the database by itself.",
                id="authtokens.E011",
            )
        )
    if not options.get("SOCKET_TIMEOUT") or not options.get("SOCKET_CONNECT_TIMEOUT"):
        problems.append(
            Warning(
                "Without SOCKET_TIMEOUT and SOCKET_CONNECT_TIMEOUT, a hung Redis hangs "
                "every worker.",
                hint="Set both in OPTIONS, for example 0.5 seconds.",
                id="authtokens.W010",
            )
        )
    return problems + _check_eviction_policy(alias)


def _check_eviction_policy(alias: str) -> list[Warning]:
    # Imported here: django-redis and redis are the `redis` extra's, absent without it.
    from django_redis import get_redis_connection
    from redis.exceptions import RedisError

    try:
        policy = get_redis_connection(alias).config_get("maxmemory-policy").get("maxmemory-policy")
    except RedisError as error:
        return [
            Warning(
                f"Could not read Redis maxmemory-policy ({type(error).__name__}).",
                hint="Make sure it is 'noeviction'.",
                id="authtokens.W012",
            )
        ]
    if policy not in EVICTING_POLICIES_OK:
        return [
            Warning(
                f"Redis maxmemory-policy is {policy!r}: Redis may evict revocation keys.",
                hint="Use 'noeviction', or a Redis instance of its own for authtokens.",
                id="authtokens.W011",
            )
        ]
    return []
