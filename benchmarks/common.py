"""Shared pieces: database URLs, Django setup in a worker process, statistics, Redis helpers."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# BENCH_INSTANCE (a suffix) keeps a second run on the same machine apart: its own PostgreSQL
# database, SQLite file and lock; give it BENCH_REDIS_URL and BENCH_PORT of its own too.
INSTANCE = os.environ.get("BENCH_INSTANCE", "")
DATABASE_URLS = {
    "sqlite": f"sqlite:////tmp/authtokens-bench{INSTANCE}.sqlite3",
    "postgres": f"postgres://postgres@127.0.0.1:5432/bench{INSTANCE}",
}
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PORT = int(os.environ.get("BENCH_PORT", "8711"))  # this port and the next four

# Scheme name -> path of its view (benchmarks/urls.py) and the store authtokens runs with.
SCHEMES = {
    "floor": "/b/floor/",
    "drf-token": "/b/drf-token/",
    "knox": "/b/knox/",
    "simplejwt": "/b/simplejwt/",
    "simplejwt-stateless": "/b/simplejwt-stateless/",
    "authtokens-redis": "/b/authtokens/",
    "authtokens-cached": "/b/authtokens/",
    "authtokens-db": "/b/authtokens/",
    "authtokens-cluster": "/b/authtokens/",
}
LABELS = {
    "floor": "no authentication (floor)",
    "drf-token": "DRF TokenAuthentication",
    "knox": "knox TokenAuthentication",
    "simplejwt": "simplejwt JWTAuthentication (HS256)",
    "simplejwt-stateless": "simplejwt JWTStatelessUserAuthentication",
    "authtokens-redis": "authtokens + RedisStore",
    "authtokens-cached": "authtokens + RedisStore + verdict cache",
    "authtokens-db": "authtokens + DatabaseStore",
    "authtokens-cluster": "authtokens + RedisStore on a Redis Cluster (3 masters)",
}
STORE_OF = {
    "authtokens-redis": "redis",
    "authtokens-cached": "redis-cached",
    "authtokens-db": "database",
    "authtokens-cluster": "redis-cluster",
}


def env_for(db: str, store: str = "redis") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        BENCH_DATABASE_URL=DATABASE_URLS[db],
        BENCH_STORE=store,
        BENCH_REDIS_URL=REDIS_URL,
        PYTHONPATH=str(ROOT),
    )
    return env


def setup_django(db: str, store: str = "redis") -> None:
    """In a worker process: configure and set up Django for ``db``."""
    os.environ.update(env_for(db, store))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_worker(module: str, args: list[str], db: str, store: str = "redis") -> Any:
    """Run ``python -m benchmarks.<module>`` for ``db``; it prints one JSON document last."""
    proc = subprocess.run(
        [PYTHON, "-m", f"benchmarks.{module}", *args],
        cwd=ROOT,
        env=env_for(db, store),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> float:
    """Half the range over the median, in percent: how much the rounds disagree."""
    if len(values) < 2:
        return 0.0
    return 50.0 * (max(values) - min(values)) / statistics.median(values)


def redis_client(timeout: float = 60):  # type: ignore[no-untyped-def]
    import redis

    # Generous: filling a million keys pipelines many Lua batches.
    return redis.Redis.from_url(REDIS_URL, socket_timeout=timeout)


def flush(client) -> None:  # type: ignore[no-untyped-def]
    """FLUSHDB our database without blocking Redis for its other users, then wait until the
    background thread has freed everything, so that it does not steal CPU from a measurement."""
    import time

    client.flushdb(asynchronous=True)
    deadline = time.monotonic() + 60
    while int(client.info("memory").get("lazyfree_pending_objects", 0)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)


def command_calls(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Per-command call counts of the whole server (INFO commandstats)."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def command_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    delta.pop("info", None)  # our own measuring
    return {k: v for k, v in delta.items() if v}


def count_client_commands():  # type: ignore[no-untyped-def]
    """Count commands this process writes on any redis-py connection (the store's read uses a
    connection of its own, not ``Redis.execute_command``); return (counter, restore)."""
    from redis.connection import AbstractConnection

    counter = {"n": 0}
    send = AbstractConnection.send_command  # packs by itself, not through pack_command
    one, many = AbstractConnection.pack_command, AbstractConnection.pack_commands

    def counting_send(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counter["n"] += 1
        return send(self, *args, **kwargs)

    def counting_one(self, *args):  # type: ignore[no-untyped-def]
        counter["n"] += 1
        return one(self, *args)

    def counting_many(self, commands):  # type: ignore[no-untyped-def]
        commands = list(commands)
        counter["n"] += len(commands)
        return many(self, commands)

    AbstractConnection.send_command = counting_send  # type: ignore[method-assign]
    AbstractConnection.pack_command = counting_one  # type: ignore[method-assign]
    AbstractConnection.pack_commands = counting_many  # type: ignore[method-assign]

    def restore() -> None:
        AbstractConnection.send_command = send  # type: ignore[method-assign]
        AbstractConnection.pack_command = one  # type: ignore[method-assign]
        AbstractConnection.pack_commands = many  # type: ignore[method-assign]

    return counter, restore
