"""Where a request's time goes: a micro breakdown of each scheme's authentication steps and a
pyinstrument profile of authtokens' hot path. Prints one JSON document."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .common import setup_django


def _per_call(fn: Any, n: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


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
    from authtokens.revocation import check_not_revoked
    from authtokens.store import get_store
    from benchmarks.fixtures import credentials
    from benchmarks.settings import STORES

    creds = credentials()
    ours = creds["authtokens-redis"]["Authorization"].split()[1]
    simple = creds["simplejwt"]["Authorization"].split()[1].encode()
    claims = tokens.decode(ours, token_type=tokens.ACCESS)
    ids = {"user_id": claims["sub"], "device_id": claims["did"], "jti": claims["jti"]}
    result: dict[str, dict[str, float]] = {}
    for store_name in ("redis", "database"):
        with override_settings(
            AUTHTOKENS={**settings.AUTHTOKENS, "REVOCATION_STORE": STORES[store_name]}
        ):
            store = get_store()
            state = store.get_state(**ids)
            result[f"authtokens-{'redis' if store_name == 'redis' else 'db'}"] = {
                "tokens.decode (parse, verify HS256, claims)": _per_call(
                    lambda: tokens.decode(ours, token_type=tokens.ACCESS), n
                ),
                f"store.get_state ({store_name})": _per_call(lambda: store.get_state(**ids), n),
                "check_not_revoked": _per_call(lambda: check_not_revoked(claims, state), n),
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


def _walk(frame: Any, total: float, depth: int, max_depth: int, out: list[str]) -> None:
    for child in sorted(frame.children, key=lambda f: -f.time):
        share = 100 * child.time / total if total else 0
        if share < 2:
            continue
        where = f"{child.file_path_short}:{child.line_no}" if child.file_path_short else ""
        out.append(f"{'  ' * depth}{share:5.1f}%  {child.function}  {where}")
        if depth < max_depth:
            _walk(child, total, depth + 1, max_depth, out)


def _find(frame: Any, function: str, path_part: str) -> list[Any]:
    found = []
    if frame.function == function and path_part in (frame.file_path or ""):
        return [frame]
    for child in frame.children:
        found += _find(child, function, path_part)
    return found


def hot_path(requests: int, store_name: str) -> dict[str, Any]:
    """pyinstrument over ``requests`` GETs of the authtokens view: the authenticate subtree."""
    from django.conf import settings
    from django.test import Client, override_settings
    from pyinstrument import Profiler

    from benchmarks.fixtures import credentials
    from benchmarks.settings import STORES

    headers = credentials()["authtokens-redis"]
    client = Client()
    with override_settings(
        AUTHTOKENS={**settings.AUTHTOKENS, "REVOCATION_STORE": STORES[store_name]}
    ):
        for _ in range(50):
            client.get("/b/authtokens/", headers=headers)
        profiler = Profiler(interval=0.0001)
        profiler.start()
        for _ in range(requests):
            client.get("/b/authtokens/", headers=headers)
        profiler.stop()
    root = profiler.last_session.root_frame()
    frames = _find(root, "authenticate", "authtokens/authentication.py")
    auth_time = sum(f.time for f in frames)
    lines: list[str] = []
    for f in frames:
        _walk(f, auth_time, 0, 4, lines)
    return {
        "store": store_name,
        "requests": requests,
        "request_total_s": root.time,
        "authenticate_s": auth_time,
        "authenticate_share": auth_time / root.time if root.time else 0,
        "tree": lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    setup_django(args.db)
    result = {
        "db": args.db,
        "breakdown_us": breakdown(args.n),
        "profiles": [hot_path(args.requests, "redis"), hot_path(args.requests, "database")],
    }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
