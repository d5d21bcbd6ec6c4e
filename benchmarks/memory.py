"""The Redis memory figure: bytes per revoked token, authtokens' layout against a denylist
keyed by the whole JWT and the shortest one-key-per-token layout. Part of the revocation
worker (revocation.py), which prints it.

Works in Redis database 14 (BENCH_REDIS_URL) and FLUSHes only that database.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any

from .common import flush, redis_client


def _fill(client: Any, keys: Any, ttl_ms: int, batch: int = 10000) -> int:
    pipe = client.pipeline(transaction=False)
    count = 0
    for key in keys:
        pipe.set(key, "1", px=ttl_ms)
        count += 1
        if count % batch == 0:
            pipe.execute()
    pipe.execute()
    return count


def _used_memory(client: Any) -> int:
    time.sleep(0.2)  # let lazy frees and incremental rehashing settle
    return int(client.info("memory")["used_memory"])


def memory(n: int) -> dict[str, Any]:
    """Bytes per revoked token: authtokens' key shape versus a whole-JWT key, both with a TTL."""
    from django.contrib.auth import get_user_model

    from authtokens import services, tokens
    from authtokens.store.redis import RedisStore

    client = redis_client()
    store = RedisStore()
    user = get_user_model().objects.get(username="bench")
    access = services.issue(user, client="web", device_name="memory").access
    claims = tokens.decode(access, token_type=tokens.ACCESS)
    ttl_ms = 15 * 60 * 1000
    sample_key, ours_usage, expires_at = _one_revocation(client, store)
    ours = _ours_per_token(client, store, n, expires_at)
    naive, naive_usage = _naive_per_token(client, access, claims, n, ttl_ms)
    # For the record: the floor of a one-key-per-token layout, with the shortest sensible key.
    flush(client)
    base = _used_memory(client)
    _fill(client, (b"t:" + secrets.token_bytes(16) for _ in range(n)), ttl_ms)
    short = (_used_memory(client) - base) / n
    flush(client)
    return {
        "n": n,
        "key_example": sample_key,
        "key_length": len(sample_key),
        "jwt_length": len(access),
        "ours_bytes_per_token": ours,
        "naive_bytes_per_token": naive,
        "short_binary_key_bytes_per_token": short,
        "ours_memory_usage_one_key": ours_usage,
        "naive_memory_usage_one_key": naive_usage,
        "redis_version": client.info("server")["redis_version"],
    }


def _one_revocation(client: Any, store: Any) -> tuple[str, int, Any]:
    """The store's own mirror write, once: a field in a per-hour, per-prefix hash. Its key,
    that key's MEMORY USAGE, and the expiry it was written with."""
    from django.utils import timezone

    from authtokens import tokens

    flush(client)
    sample_jti = tokens.new_jti()
    expires_at = timezone.now() + timedelta(minutes=15)
    store.token_revoked(sample_jti, expires_at)
    sample_key = store.token_bucket(sample_jti, int(expires_at.timestamp()))
    written = client.keys("*")
    assert written == [sample_key.encode()], written
    assert client.hexists(sample_key, sample_jti) and client.pttl(sample_key) > 0
    return sample_key, client.memory_usage(sample_key), expires_at


def _ours_per_token(client: Any, store: Any, n: int, expires_at: Any) -> float:
    """``n`` revocations through the store's own write, pipelined: used_memory per token."""
    from authtokens import tokens

    flush(client)
    base = _used_memory(client)
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        store.write_token(pipe, tokens.new_jti(), expires_at)
        if i % 10000 == 0:
            pipe.execute()
    pipe.execute()
    return (_used_memory(client) - base) / n


def _naive_per_token(
    client: Any, access: str, claims: dict, n: int, ttl_ms: int
) -> tuple[float, int]:
    """A denylist keyed by the whole JWT: used_memory per token, MEMORY USAGE of one key."""
    import jwt

    from authtokens import tokens

    header = jwt.get_unverified_header(access)

    def naive_keys():  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield jwt.encode({**claims, "jti": tokens.new_jti()}, "x" * 32, headers=header)

    flush(client)
    base = _used_memory(client)
    _fill(client, naive_keys(), ttl_ms)
    naive = (_used_memory(client) - base) / n
    return naive, client.memory_usage(client.randomkey())
