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


def breakdown(n: int) -> dict[str, dict[str, float]]:
    """Microseconds per call of each step, outside the request cycle."""
    from django.conf import settings
    from django.test import override_settings
    from rest_framework_simplejwt.authentication import (
        JWTAuthentication as SimpleJWT,
    )
    from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

    from authtokens import services, tokens
    from authtokens.authentication import LazyUser, authenticate_token
    from authtokens.store import get_store
    from benchmarks.fixtures import credentials
    from benchmarks.settings import STORES

    creds = credentials()
    ours = creds["authtokens-redis"]["Authorization"].split()[1]
    simple = creds["simplejwt"]["Authorization"].split()[1].encode()
    claims = tokens.decode(ours, token_type=tokens.ACCESS)
    ids = claims
    result: dict[str, dict[str, float]] = {}
    for store_name in ("redis", "database"):
        with override_settings(
            AUTHTOKENS={**settings.AUTHTOKENS, "REVOCATION_STORE": STORES[store_name]}
        ):
            store = get_store()
            state = store.get_state(ids)
            # The lambdas run right here, inside this iteration: binding late is what we want.
            result[f"authtokens-{'redis' if store_name == 'redis' else 'db'}"] = {
                "tokens.decode (parse, verify HS256, claims)": _per_call(
                    lambda: tokens.decode(ours, token_type=tokens.ACCESS), n
                ),
                f"store.get_state ({store_name})": _per_call(
                    lambda: store.get_state(ids),  # noqa: B023
                    n,
                ),
                "RevocationState.check": _per_call(
                    lambda: state.check(claims),  # noqa: B023
                    n,
                ),
                "LazyUser(sub)": _per_call(lambda: LazyUser(claims["sub"]), n),
                "total: authenticate_token": _per_call(lambda: authenticate_token(ours), n),
                "services.authenticate": _per_call(lambda: services.authenticate(ours), n),
            }
    auth = SimpleJWT()
    stateless = JWTStatelessUserAuthentication()
    validated = auth.get_validated_token(simple)
    result["simplejwt"] = {
        "get_validated_token (PyJWT decode, HS256)": _per_call(
            lambda: auth.get_validated_token(simple), n
        ),
        "get_user (one SELECT)": _per_call(lambda: auth.get_user(validated), n),
        "total": _per_call(lambda: auth.get_user(auth.get_validated_token(simple)), n),
    }
    result["simplejwt-stateless"] = {
        "total": _per_call(lambda: stateless.get_user(stateless.get_validated_token(simple)), n),
    }
    import jwt

    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    result["reference"] = {
        "bare jwt.decode HS256 (PyJWT)": _per_call(
            lambda: jwt.decode(simple, key, algorithms=["HS256"]), n
        ),
    }
    return {k: {step: us * 1e6 for step, us in v.items()} for k, v in result.items()}


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
    from django.conf import settings
    from django.test import override_settings
    from pyinstrument import Profiler

    from authtokens.authentication import authenticate_token
    from benchmarks.fixtures import credentials
    from benchmarks.settings import STORES

    token = credentials()["authtokens-redis"]["Authorization"].split()[1]
    with override_settings(
        AUTHTOKENS={**settings.AUTHTOKENS, "REVOCATION_STORE": STORES[store_name]}
    ):
        for _ in range(100):
            authenticate_token(token)
        profiler = Profiler(interval=0.0002)
        profiler.start()
        start = time.perf_counter()
        for _ in range(calls):
            authenticate_token(token)
        elapsed = time.perf_counter() - start
        profiler.stop()
    root = profiler.last_session.root_frame()
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
    return {
        "store": store_name,
        "calls": calls,
        "us_per_call_under_profiler": 1e6 * elapsed / calls,
        "tree": lines,
    }


def split_costs(n: int) -> dict[str, float]:
    """The store round trip itself versus what the Python around it costs (microseconds)."""
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext
    from django_redis import get_redis_connection

    from authtokens import tokens
    from authtokens.store import get_store
    from benchmarks.fixtures import credentials
    from benchmarks.settings import STORES

    token = credentials()["authtokens-redis"]["Authorization"].split()[1]
    claims = tokens.decode(token, token_type=tokens.ACCESS)
    ids = claims
    out: dict[str, float] = {}
    with override_settings(
        AUTHTOKENS={**settings.AUTHTOKENS, "REVOCATION_STORE": STORES["database"]}
    ):
        store = get_store()
        with CaptureQueriesContext(connection) as captured:
            store.get_state(ids)
        sql = captured.captured_queries[-1]["sql"]
        cursor = connection.cursor()

        def raw() -> None:
            cursor.execute(sql)
            cursor.fetchall()

        out["database get_state"] = _per_call(lambda: store.get_state(ids), n)
        out["database: the same SQL through a raw cursor"] = _per_call(raw, n)
    with override_settings(AUTHTOKENS={**settings.AUTHTOKENS, "REVOCATION_STORE": STORES["redis"]}):
        store = get_store()
        client = get_redis_connection("default")
        from authtokens.store.scripts import READ_STATE_SHA

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

        out["redis get_state"] = _per_call(lambda: store.get_state(ids), n)
        out["redis: the same EVALSHA on a raw client"] = _per_call(raw_read, n)
        out["redis: one plain GET on a raw client"] = _per_call(raw_get, n)
    return {k: v * 1e6 for k, v in out.items()}


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
