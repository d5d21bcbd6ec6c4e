"""In-process figures (django.test.Client, full request cycle, no network) for one database.

Per-request cost of every scheme, interleaved round by round, and refresh-with-rotation
throughput of authtokens and simplejwt. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from contextlib import contextmanager
from typing import Any

from .common import SCHEMES, STORE_OF, setup_django


@contextmanager
def store(name: str | None):  # type: ignore[no-untyped-def]
    """Run authtokens with the given store (a key of benchmarks.settings.STORES); None leaves
    settings alone."""
    if name is None:
        yield
        return
    from django.conf import settings
    from django.test import override_settings

    from benchmarks.settings import store_settings

    with override_settings(AUTHTOKENS={**settings.AUTHTOKENS, **store_settings(name)}):
        yield


def time_requests(client: Any, path: str, headers: dict[str, str], n: int) -> float:
    """Seconds per request over ``n`` GETs, each checked to be a 200."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(n):
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.content[:200]!r}")
    return (time.perf_counter() - start) / n


def per_request(rounds: int, n: int, creds: dict[str, dict[str, str]]) -> dict[str, list[float]]:
    from django.test import Client

    client = Client()
    names = list(SCHEMES)
    for name in names:  # warm-up: imports, connections, the Redis warm marker
        with store(STORE_OF.get(name)):
            time_requests(client, SCHEMES[name], creds[name], 50)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate the start each round
        for name in order:
            with store(STORE_OF.get(name)):
                # Switching settings builds a new store, whose first request connects (for the
                # cluster: discovers the slot map); untimed, as a server pays it once.
                time_requests(client, SCHEMES[name], creds[name], 3)
                samples[name].append(time_requests(client, SCHEMES[name], creds[name], n))
    return samples


def costs(creds: dict[str, dict[str, str]]) -> dict[str, dict[str, int]]:
    """Redis commands sent and SQL queries run by one request of each scheme (warm)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from .common import count_client_commands

    client, found = Client(), {}
    for name, path in SCHEMES.items():
        with store(STORE_OF.get(name)):
            time_requests(client, path, creds[name], 5)
            samples = []
            for _ in range(10):  # the fewest: a verdict cache hits once its heartbeat beat
                time.sleep(0.05)
                counter, restore = count_client_commands()
                try:
                    with CaptureQueriesContext(connection) as queries:
                        time_requests(client, path, creds[name], 1)
                finally:
                    restore()
                samples.append((counter["n"], len(queries)))
        commands, sql = min(samples)
        found[name] = {"redis_commands": commands, "sql_queries": sql}
    return found


def refresh_rates(rounds: int, n: int) -> dict[str, list[float]]:
    """Seconds per refresh (with rotation) through each library's refresh endpoint."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefresh

    from authtokens import services

    user = get_user_model().objects.get(username="bench")
    client = Client()
    tokens = {
        "authtokens": services.issue(user, client="native", audience="Android-App").refresh,
        "simplejwt": str(SimpleRefresh.for_user(user)),
    }
    paths = {"authtokens": "/api/token/refresh/", "simplejwt": "/b/simplejwt/refresh/"}

    def run(name: str, count: int) -> float:
        gc.collect()
        start = time.perf_counter()
        for _ in range(count):
            response = client.post(
                paths[name], {"refresh": tokens[name]}, content_type="application/json"
            )
            if response.status_code != 200:
                raise RuntimeError(f"{name} refresh: {response.status_code} {response.content!r}")
            tokens[name] = response.json()["refresh"]  # rotation: the old one is spent
        return (time.perf_counter() - start) / count

    for name in paths:
        run(name, 10)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for r in range(rounds):
        for name in list(paths) if r % 2 == 0 else list(reversed(paths)):
            samples[name].append(run(name, n))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--refresh-rounds", type=int, default=5)
    parser.add_argument("--refreshes", type=int, default=100)
    args = parser.parse_args()
    setup_django(args.db)
    from benchmarks.fixtures import credentials

    creds = credentials()
    result = {
        "db": args.db,
        "requests": per_request(args.rounds, args.requests, creds),
        "costs": costs(creds),
        "refresh": refresh_rates(args.refresh_rounds, args.refreshes),
    }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
