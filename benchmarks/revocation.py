"""Revocation figures: logout-all cost by device count, Redis bytes per revoked token, and
verification cost with an empty and a full denylist. Prints one JSON document.

Works in Redis database 14 (BENCH_REDIS_URL) and FLUSHes only that database.
"""

from __future__ import annotations

import argparse
import gc
import json
import secrets
import sys
import time
from datetime import timedelta
from typing import Any

from .common import (
    command_calls,
    command_delta,
    count_client_commands,
    flush,
    median,
    redis_client,
    setup_django,
)
from .memory import memory


def logout_all(sizes: list[int], reps: int) -> list[dict[str, Any]]:
    from authtokens import services
    from authtokens.models import Device

    client = redis_client()
    rows = []
    for size in sizes:
        user = _user_with_devices(size)
        services.logout_all(user)  # first one: UserTokenState row, Lua script cached
        times, statements, server_calls, client_calls, detail = [], [], [], [], {}
        for _ in range(reps):
            Device.objects.filter(user=user).update(revoked_at=None, revoked_reason="")
            elapsed, queries, sent, delta = _timed_logout_all(user, client)
            if not detail or sum(delta.values()) < sum(detail.values()):
                detail = delta
            times.append(elapsed)
            statements.append(len(queries))
            server_calls.append(sum(detail.values()))
            client_calls.append(sent)
            sql = [q["sql"].split()[0] for q in queries]
        revoked = Device.objects.filter(user=user, revoked_at__isnull=False).count()
        rows.append(
            {
                "devices": size,
                "seconds": median(times),
                "sql_statements": max(statements),
                "sql_kinds": sql,
                "redis_round_trips": max(client_calls),
                # INFO commandstats is server-wide: other clients can only add to a delta.
                "redis_server_calls": min(server_calls),
                "redis_commands": detail,
                "devices_marked_revoked": revoked,
            }
        )
    return rows


def _user_with_devices(size: int) -> Any:
    """A fresh user ``bench-devices-<size>`` with ``size`` live web devices."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from authtokens.models import Device

    users = get_user_model()
    users.objects.filter(username=f"bench-devices-{size}").delete()
    user = users.objects.create(username=f"bench-devices-{size}")
    expires = timezone.now() + timedelta(hours=1)
    Device.objects.bulk_create(
        [
            Device(user=user, name=f"d{i}", kind="web", audience="web", expires_at=expires)
            for i in range(size)
        ],
        batch_size=2000,
    )
    return user


def _timed_logout_all(user: Any, client: Any) -> tuple[float, list[dict], int, dict]:
    """One logout-all: seconds, SQL queries, Redis commands sent, server-side command delta."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from authtokens import services

    gc.collect()
    counter, restore = count_client_commands()
    before = command_calls(client)
    counter["n"] = 0
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        services.logout_all(user)
        elapsed = time.perf_counter() - start
    sent = counter["n"]
    restore()
    delta = command_delta(before, command_calls(client))
    return elapsed, list(queries.captured_queries), sent, delta


# Server-side fill, like RedisStore.token_revoked: HSET <prefix><hour>:<2 chars> <jti> 1 and
# PEXPIRE, in batches sent through a pipeline (redis-py would spend ~25 s packing a million).
FILL = """
local alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
for i = 1, tonumber(ARGV[2]) do
  local k = tonumber(ARGV[3]) + i
  local a, b = (k % 64) + 1, (math.floor(k / 64) % 64) + 1
  local jti = string.sub(alphabet, a, a) .. string.sub(alphabet, b, b) .. ARGV[4] .. string.format('%06d', k % 1000000)
  local bucket = KEYS[1] .. string.sub(jti, 1, 2)
  redis.call('HSET', bucket, jti, '1')
  redis.call('PEXPIRE', bucket, ARGV[1])
end
return 1
"""


def fill_denylist(client: Any, prefix: str, n: int, ttl_ms: int, batch: int = 5000) -> None:
    """``n`` revoked jtis (22 characters) in the buckets of ``prefix`` (a token bucket key
    without its two-letter shard)."""
    script = client.register_script(FILL)
    pipe = client.pipeline(transaction=False)
    middle = secrets.token_urlsafe(11)[:14]
    for i, offset in enumerate(range(0, n, batch), 1):
        # Each batch holds Redis for ~15 ms: others using the server barely notice.
        script(keys=[prefix], args=[ttl_ms, min(batch, n - offset), offset, middle], client=pipe)
        if i % 20 == 0:
            pipe.execute()
    pipe.execute()


def denylist(n: int, rounds: int, requests: int, cycles: int = 3) -> dict[str, Any]:
    """Per-request cost of authtokens + Redis with 0 and with ``n`` live revoked-token keys,
    alternating empty and full ``cycles`` times so that drift hits both states alike."""
    from django.test import Client

    from authtokens.store.redis import RedisStore
    from benchmarks.fixtures import credentials

    client = redis_client()
    store = RedisStore()
    http, headers = Client(), credentials()["authtokens-redis"]
    samples: dict[str, list[float]] = {"empty": [], "full": []}
    bare: dict[str, list[float]] = {"empty": [], "full": []}
    fill_seconds, dbsize = [], 0

    def measure(label: str) -> None:
        per_request, per_read = _measure(client, store, (http, headers), rounds, requests)
        samples[label] += per_request
        bare[label] += per_read

    for _ in range(cycles):
        flush(client)
        measure("empty")
        start = time.perf_counter()
        hour_prefix = store.token_bucket("xx", int(time.time()) + 900)[:-2]
        fill_denylist(client, hour_prefix, n, 3600 * 1000)
        fill_seconds.append(time.perf_counter() - start)
        dbsize = client.dbsize()
        measure("full")
    flush(client)
    return {
        "entries": n,
        "cycles": cycles,
        "dbsize_full": dbsize,
        "fill_seconds": median(fill_seconds),
        "empty": samples["empty"],
        "full": samples["full"],
        "bare": bare,
    }


def _measure(
    client: Any, store: Any, caller: tuple[Any, dict], rounds: int, requests: int
) -> tuple[list, list]:
    """``rounds`` of ``requests`` in process by ``caller`` (a test Client and its headers;
    seconds per request), each followed by as many bare reads of the store's shape (one
    EVALSHA; seconds per read)."""
    from authtokens import tokens
    from authtokens.store.scripts import READ_STATE_SHA
    from benchmarks.inprocess import time_requests

    (http, headers), path = caller, "/b/authtokens/"
    time_requests(http, path, headers, 100)  # warm: rebuilds the mirror after a flush
    jti = tokens.new_jti()
    bucket = store.token_bucket(jti, int(time.time()) + 900)
    keys = [store.key("d", "x"), store.key("u", "1"), store.warm_key, bucket]
    per_request, per_read = [], []
    for _ in range(rounds):
        per_request.append(time_requests(http, path, headers, requests))
        start = time.perf_counter()
        for _ in range(requests):  # the store's read: one EVALSHA
            client.evalsha(READ_STATE_SHA, 4, *keys, jti, b"+1")
        per_read.append((time.perf_counter() - start) / requests)
    return per_request, per_read


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--devices", default="1,100,10000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--memory-n", type=int, default=100_000)
    parser.add_argument("--denylist-n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--skip-redis", action="store_true", help="logout-all only")
    args = parser.parse_args()
    setup_django(args.db)
    result: dict[str, Any] = {
        "db": args.db,
        "logout_all": logout_all([int(s) for s in args.devices.split(",")], args.reps),
    }
    if not args.skip_redis:
        result["memory"] = memory(args.memory_n)
        result["denylist"] = denylist(args.denylist_n, args.rounds, args.requests, args.cycles)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
