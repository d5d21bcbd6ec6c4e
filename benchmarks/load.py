"""Load test: many clients sign in, use, extend, refresh and revoke against gunicorn, while
revoked tokens are replayed at random. Bounded in time, loopback only.

    .venv/bin/python -m benchmarks.load --duration 60 --clients 16

Reports requests served, errors (5xx or no answer), p50/p99 latency, and revoked tokens
accepted, which must be 0. Writes benchmarks/results/load.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "load.md"
DATABASE = "authtokens_load"
PASSWORD = "load-test-password"  # noqa: S105


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    by_action: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    revoked_accepted: int = 0
    revoked_checks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def call(
    base: str,
    tally: Tally,
    action: str,
    method: str,
    path: str,
    token: str | None = None,
    body: dict | None = None,
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310  loopback
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError as error:
        status, raw = 0, str(error).encode()
    elapsed = time.perf_counter() - started
    with tally.lock:
        tally.latencies.append(elapsed)
        tally.by_action[action] = tally.by_action.get(action, 0) + 1
        if status == 0 or status >= 500:
            tally.errors.append(f"{action} {status}")
    try:
        return status, json.loads(raw) if raw else {}
    except ValueError:
        return status, {}


class Client(threading.Thread):
    """One person: signs in on a web or native device and works until the time is up."""

    def __init__(
        self, base: str, username: str, tally: Tally, revoked: list[str], deadline: float, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.username, self.tally = base, username, tally
        self.revoked, self.deadline, self.random = revoked, deadline, random.Random(seed)

    def sign_in(self) -> dict:
        native = self.random.random() < 0.5
        body = {"username": self.username, "password": PASSWORD}
        if native:
            body |= {"client": "native", "audience": "Android-App"}
        status, answer = call(self.base, self.tally, "sign_in", "POST", "/api/token/", body=body)
        return answer if status == 200 else {}

    def expect_refused(self, token: str) -> None:
        status, _ = call(self.base, self.tally, "replay", "GET", "/api/me/", token)
        with self.tally.lock:
            self.tally.revoked_checks += 1
            if status == 200:
                self.tally.revoked_accepted += 1

    def run(self) -> None:
        session = self.sign_in()
        while time.monotonic() < self.deadline:
            if not session:
                session = self.sign_in()
                continue
            roll = self.random.random()
            if roll < 0.70:
                call(self.base, self.tally, "use", "GET", "/api/me/", session["access"])
            elif roll < 0.80 and "refresh" not in session:
                status, answer = call(
                    self.base, self.tally, "extend", "POST", "/api/token/extend/", session["access"]
                )
                if status == 200:
                    session = answer
            elif roll < 0.80:
                status, answer = call(
                    self.base,
                    self.tally,
                    "refresh",
                    "POST",
                    "/api/token/refresh/",
                    body={"refresh": session["refresh"]},
                )
                if status == 200:
                    session = answer
            elif roll < 0.90 and self.revoked:
                self.expect_refused(self.random.choice(self.revoked))
            else:
                self.revoke(session)
                session = {}

    def revoke(self, session: dict) -> None:
        how = self.random.choice(["logout", "logout-all", "revoke"])
        token = session["access"]
        if how == "revoke":
            call(
                self.base,
                self.tally,
                "revoke",
                "POST",
                "/api/token/revoke/",
                token,
                {"token": token},
            )
        else:
            call(self.base, self.tally, how, "POST", f"/api/token/{how}/", token)
        self.expect_refused(token)  # at once, through whichever worker answers
        with self.tally.lock:
            self.revoked.append(token)


def prepare(env: dict[str, str], users: int) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        db.execute(f'CREATE DATABASE "{DATABASE}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    script = (
        "from django.contrib.auth import get_user_model\n"
        "User = get_user_model()\n"
        f"for i in range({users}):\n"
        f"    User.objects.create_user(f'load{{i}}', password='{PASSWORD}')\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (max 240)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    duration = min(args.duration, 240)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.load_settings",
        "DEBUG": "0",
        "SECRET_KEY": "load-test-" + "s" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "AUTHTOKENS_SIGNING_KEY": "k" * 40,
    }
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    prepare(env, args.clients)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "project.wsgi:application",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_for(base)
        tally, revoked = Tally(), []
        deadline = time.monotonic() + duration
        clients = [
            Client(base, f"load{i}", tally, revoked, deadline, seed=i) for i in range(args.clients)
        ]
        started = time.monotonic()
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(tally, elapsed, args)
    return 1 if tally.revoked_accepted or tally.errors else 0


def wait_for(base: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/.well-known/jwks.json", timeout=2)  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def report(tally: Tally, elapsed: float, args: Any) -> None:
    latencies = sorted(tally.latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    lines = [
        "# Load test",
        "",
        f"`python -m benchmarks.load --duration {args.duration:g} --clients {args.clients} "
        f"--workers {args.workers}`: gunicorn with {args.workers} sync workers, PostgreSQL, "
        f"Redis, {args.clients} concurrent clients on loopback, {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests served | {len(latencies)} in {elapsed:.0f} s "
        f"({len(latencies) / elapsed:.0f}/s) |",
        f"| errors (5xx or no answer) | {len(tally.errors)} |",
        f"| latency p50 / p99 | {p50:.1f} ms / {p99:.1f} ms |",
        f"| revoked tokens replayed | {tally.revoked_checks} |",
        f"| **revoked tokens accepted** | **{tally.revoked_accepted}** |",
        "",
        "Requests by action: "
        + ", ".join(f"{k} {v}" for k, v in sorted(tally.by_action.items()))
        + ".",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if tally.errors:
        print("First errors:", tally.errors[:10])


if __name__ == "__main__":
    raise SystemExit(main())
