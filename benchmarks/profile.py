"""Where a request's time goes: a micro breakdown of each scheme's authentication steps and a
pyinstrument profile of authtokens' hot path. Prints one JSON document."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .common import setup_django


def _per_call(fn: Any, n: int, repeats: int = 5) -> float:
    """Best of ``repeats`` runs of ``n`` calls: the least disturbed by the rest of the machine."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def _store(name: str) -> Any:
    """Settings with authtokens on the benchmark's ``name`` store ("redis" or "database")."""
    from django.conf import settings
    from django.test import override_settings

    from benchmarks.settings import STORES

    return override_settings(AUTHTOKENS={**settings.AUTHTOKENS, "REVOCATION_STORE": STORES[name]})


def breakdown(n: int) -> dict[str, dict[str, float]]:
    """Microseconds per call of each step, outside the request cycle."""
    from benchmarks.fixtures import credentials

    creds = credentials()
    ours = creds["authtokens-redis"]["Authorization"].split()[1]
    simple = creds["simplejwt"]["Authorization"].split()[1].encode()
    result: dict[str, dict[str, float]] = {}
    for store_name in ("redis", "database"):
        name = f"authtokens-{'redis' if store_name == 'redis' else 'db'}"
        result[name] = _authtokens_steps(store_name, ours, n)
    result |= _simplejwt_steps(simple, n)
    return {k: {step: us * 1e6 for step, us in v.items()} for k, v in result.items()}


def _authtokens_steps(store_name: str, ours: str, n: int) -> dict[str, float]:

    from authtokens import services, tokens
    from authtokens.authentication import LazyUser, authenticate_token
    from authtokens.store import get_store

    claims = tokens.decode(ours, token_type=tokens.ACCESS)
    ids = claims
    with _store(store_name):
        store = get_store()
        state = store.get_state(ids)
        return {
            "tokens.decode (parse, verify HS256, claims)": _per_call(
                lambda: tokens.decode(ours, token_type=tokens.ACCESS), n
            ),
            f"store.get_state ({store_name})": _per_call(lambda: store.get_state(ids), n),
            "RevocationState.check": _per_call(lambda: state.check(claims), n),
            "LazyUser(sub)": _per_call(lambda: LazyUser(claims["sub"]), n),
            "total: authenticate_token": _per_call(lambda: authenticate_token(ours), n),
            "services.authenticate": _per_call(lambda: services.authenticate(ours), n),
        }


def _simplejwt_steps(simple: bytes, n: int) -> dict[str, dict[str, float]]:
    """simplejwt's steps, its stateless variant, and a bare PyJWT decode for reference."""
    import jwt
    from django.conf import settings
    from rest_framework_simplejwt.authentication import (
        JWTAuthentication as SimpleJWT,
    )
    from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

    auth = SimpleJWT()
    stateless = JWTStatelessUserAuthentication()
    validated = auth.get_validated_token(simple)
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    return {
        "simplejwt": {
            "get_validated_token (PyJWT decode, HS256)": _per_call(
                lambda: auth.get_validated_token(simple), n
            ),
            "get_user (one SELECT)": _per_call(lambda: auth.get_user(validated), n),
            "total": _per_call(lambda: auth.get_user(auth.get_validated_token(simple)), n),
        },
        "simplejwt-stateless": {
            "total": _per_call(
                lambda: stateless.get_user(stateless.get_validated_token(simple)), n
            ),
        },
        "reference": {
            "bare jwt.decode HS256 (PyJWT)": _per_call(
                lambda: jwt.decode(simple, key, algorithms=["HS256"]), n
            ),
        },
    }


def _merge(frame: Any, prefix: tuple, acc: dict[tuple, float], depth: int, max_depth: int) -> None:
    """Sum the time of identical call paths (pyinstrument keeps one frame per call site)."""
    for child in frame.children:
        where = f"{child.file_path_short}:{child.line_no}" if child.file_path_short else ""
        key = (*prefix, f"{child.function}  {where}")
        acc[key] = acc.get(key, 0.0) + child.time
        if depth < max_depth:
            _merge(child, key, acc, depth + 1, max_depth)


def hot_path(calls: int, store_name: str) -> dict[str, Any]:
    """pyinstrument over ``calls`` of authtokens' DRF entry point (authenticate_token)."""
    from pyinstrument import Profiler

    from authtokens.authentication import authenticate_token
    from benchmarks.fixtures import credentials

    token = credentials()["authtokens-redis"]["Authorization"].split()[1]
    with _store(store_name):
        for _ in range(100):
            authenticate_token(token)
        profiler = Profiler(interval=0.0002)
        profiler.start()
        start = time.perf_counter()
        for _ in range(calls):
            authenticate_token(token)
        elapsed = time.perf_counter() - start
        profiler.stop()
    return {
        "store": store_name,
        "calls": calls,
        "us_per_call_under_profiler": 1e6 * elapsed / calls,
        "tree": _tree(profiler.last_session.root_frame()),
    }


def _tree(root: Any) -> list[str]:
    """The call paths under authenticate_token, merged, as indented lines: share, then frame."""
    acc: dict[tuple, float] = {}
    _merge(root, (), acc, 0, 16)
    top = [k for k in acc if k[-1].startswith("authenticate_token ")]
    total = sum(acc[k] for k in top) or 1.0
    lines: list[str] = []

    def render(key: tuple, depth: int) -> None:
        share = 100 * acc[key] / total
        if share < 3 or depth > 8:
            return
        lines.append(f"{'  ' * depth}{share:5.1f}%  {key[-1]}")
        children = [k for k in acc if len(k) == len(key) + 1 and k[: len(key)] == key]
        for child in sorted(children, key=lambda k: -acc[k]):
            render(child, depth + 1)

    for key in top:
        render(key, 0)
    return lines


def split_costs(n: int) -> dict[str, float]:
    """The store round trip itself versus what the Python around it costs (microseconds)."""
    from authtokens import tokens
    from benchmarks.fixtures import credentials

    token = credentials()["authtokens-redis"]["Authorization"].split()[1]
    ids = tokens.decode(token, token_type=tokens.ACCESS)
    out = {**_database_split(ids, n), **_redis_split(ids, n)}
    return {k: v * 1e6 for k, v in out.items()}


def _database_split(ids: Any, n: int) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from authtokens.store import get_store

    with _store("database"):
        store = get_store()
        with CaptureQueriesContext(connection) as captured:
            store.get_state(ids)
        sql = captured.captured_queries[-1]["sql"]
        cursor = connection.cursor()

        def raw() -> None:
            cursor.execute(sql)
            cursor.fetchall()

        return {
            "database get_state": _per_call(lambda: store.get_state(ids), n),
            "database: the same SQL through a raw cursor": _per_call(raw, n),
        }


def _redis_split(ids: Any, n: int) -> dict[str, float]:
    from django_redis import get_redis_connection

    from authtokens.store import get_store
    from authtokens.store.scripts import READ_STATE_SHA

    with _store("redis"):
        store = get_store()
        client = get_redis_connection("default")
        keys = [
            store.key("d", ids["did"]),
            store.key("u", ids["sub"]),
            store.warm_key,
            store.token_bucket(ids["jti"], ids.get("exp")),
        ]
        owner = store.owner_value(ids["sub"])

        def raw_read() -> None:
            client.evalsha(READ_STATE_SHA, 4, *keys, ids["jti"], owner)

        def raw_get() -> None:
            client.get(keys[0])

        return {
            "redis get_state": _per_call(lambda: store.get_state(ids), n),
            "redis: the same EVALSHA on a raw client": _per_call(raw_read, n),
            "redis: one plain GET on a raw client": _per_call(raw_get, n),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    setup_django(args.db)
    result = {
        "db": args.db,
        "breakdown_us": breakdown(args.n),
        "split_us": split_costs(args.n),
        "profiles": [hot_path(args.calls, "redis"), hot_path(args.calls, "database")],
    }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
