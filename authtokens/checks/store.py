"""Checks of the Redis the Redis revocation store relies on: none when another store is used.

A Redis that fails open, hangs without a timeout or evicts keys would turn an outage or memory
pressure into revoked tokens accepted, which the store's fallback to the database cannot see.
"""

from __future__ import annotations

from datetime import timedelta
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
    problems = _check_topology_values()
    if app_settings.REDIS is not None:
        return problems or _check_nodes()
    return problems + _check_cache()


def _check_cache() -> list[Error | Warning]:
    """The django-redis cache the store borrows when ``REDIS`` is None."""
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

    return _check_node_policy(get_redis_connection(alias))


def _check_node_policy(client: Any) -> list[Warning]:
    from redis.exceptions import RedisError

    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
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


TOPOLOGIES = ({"URL"}, {"SENTINELS", "SERVICE_NAME"}, {"CLUSTER"})


def _check_topology_values() -> list[Error | Warning]:
    """``REDIS`` names one topology; the numbers around it are bounded."""
    problems: list[Error | Warning] = []
    config = app_settings.REDIS
    if config is not None:
        given = (
            set(config) - {"OPTIONS", "SENTINEL_OPTIONS", "DB"}
            if isinstance(config, dict)
            else set()
        )
        if given not in TOPOLOGIES or not isinstance(config.get("OPTIONS", {}), dict):
            problems.append(
                Error(
                    "AUTHTOKENS REDIS must be {'URL': ...}, {'SENTINELS': [(host, port), ...], "
                    "'SERVICE_NAME': ...} or {'CLUSTER': [(host, port), ...]}, with optional "
                    "'OPTIONS' (a dict of redis-py options).",
                    id="authtokens.E015",
                )
            )
        elif any(config.get("OPTIONS", {}).get(name, 0.5) is None for name in TIMEOUTS):
            problems.append(
                Warning(
                    "Without socket timeouts, a hung Redis hangs every worker.",
                    hint="Leave socket_timeout and socket_connect_timeout out (0.5 s) or set them.",
                    id="authtokens.W010",
                )
            )
    problems += [Error(message, id="authtokens.E016") for message in _out_of_bounds()]
    if app_settings.REDIS_VERDICT_CACHE and (
        (config or {}).keys() & {"SENTINELS", "CLUSTER"} or app_settings.REDIS_MIN_REPLICAS
    ):
        problems.append(
            Error(
                "REDIS_VERDICT_CACHE works on one Redis node without REDIS_MIN_REPLICAS only.",
                hint="Turn it off with Sentinel or Cluster (README, Deployment).",
                id="authtokens.E017",
            )
        )
    return problems


TIMEOUTS = ("socket_timeout", "socket_connect_timeout")


def _out_of_bounds() -> list[str]:
    groups, replicas = app_settings.REDIS_GROUPS, app_settings.REDIS_MIN_REPLICAS
    wait, bound = app_settings.REDIS_REPLICA_TIMEOUT, app_settings.REDIS_VERDICT_CACHE_BOUND
    messages = []
    if type(groups) is not int or not 1 <= groups <= 16384:
        messages.append("AUTHTOKENS REDIS_GROUPS must be an int from 1 to 16384.")
    if replicas is not None and (type(replicas) is not int or not 0 <= replicas <= 16):
        messages.append("AUTHTOKENS REDIS_MIN_REPLICAS must be None or an int from 0 to 16.")
    for name, value, high in (
        ("REDIS_REPLICA_TIMEOUT", wait, timedelta(seconds=5)),
        ("REDIS_VERDICT_CACHE_BOUND", bound, timedelta(seconds=5)),
    ):
        if not isinstance(value, timedelta) or not timedelta(0) < value <= high:
            messages.append(f"AUTHTOKENS {name} must be a timedelta above 0 and at most {high}.")
    return messages


def _check_nodes() -> list[Error | Warning]:
    """Every primary of the configured topology: its eviction policy, and enough replicas."""
    from redis.exceptions import RedisClusterException, RedisError

    from ..store.topology import connect

    try:
        topology = connect()
        primaries = [topology.on_node(name) for name in topology.primary_names()]
    except (RedisError, RedisClusterException) as error:
        return [
            Warning(
                f"Could not reach the Redis of AUTHTOKENS REDIS ({type(error).__name__}).",
                hint="authtokens checks revocations in the database until it can.",
                id="authtokens.W012",
            )
        ]
    problems: list[Error | Warning] = []
    for client in primaries:
        problems += _check_node_policy(client)
        problems += _check_replicas(client)
    topology.close()
    return problems


def _check_replicas(client: Any) -> list[Warning]:
    from redis.exceptions import RedisError

    from ..store.topology import required_replicas

    wanted = required_replicas(app_settings.REDIS)
    try:
        connected = client.info("replication").get("connected_slaves", 0)
    except RedisError:
        return []
    if connected >= wanted:
        return []
    return [
        Warning(
            f"A Redis master has {connected} replica(s) connected; REDIS_MIN_REPLICAS is "
            f"{wanted}: its users' revocations are checked in the database.",
            hint="Add replicas, or set REDIS_MIN_REPLICAS to what you run (README, Deployment).",
            id="authtokens.W013",
        )
    ]
