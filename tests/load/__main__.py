"""Run the load test (see tests/load/__init__.py): ``python -m tests.load`` or ``make load``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request

from . import __doc__ as DOC
from .clients import PASSWORD, Client, Tally
from .report import ROOT, report

DATABASE = "authtokens_load"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=DOC.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (max 240)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8765)
    return parser.parse_args()


def environment() -> dict[str, str]:
    """The environment of manage.py and gunicorn: the demo project on the load test's stores."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.load.settings",
        "DEBUG": "0",
        "SECRET_KEY": "load-test-" + "s" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "AUTHTOKENS_SIGNING_KEY": "k" * 40,
    }


def prepare(env: dict[str, str], users: int) -> None:
    import psycopg
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
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


def gunicorn(env: dict[str, str], args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", "project.wsgi:application"]
    command += ["--workers", str(args.workers), "--bind", f"127.0.0.1:{args.port}"]
    return subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)


def wait_for(base: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/.well-known/jwks.json", timeout=2)  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def load(base: str, clients: int, duration: float) -> tuple[Tally, float]:
    """``clients`` people at work for ``duration`` seconds: the tally and the time it took."""
    tally, revoked = Tally(), []
    deadline = time.monotonic() + duration
    people = [Client(base, f"load{i}", tally, revoked, deadline, seed=i) for i in range(clients)]
    started = time.monotonic()
    for person in people:
        person.start()
    for person in people:
        person.join()
    return tally, time.monotonic() - started


def main() -> int:
    args = parse_args()
    env = environment()
    prepare(env, args.clients)
    server = gunicorn(env, args)
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_for(base)
        tally, elapsed = load(base, args.clients, min(args.duration, 240))
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(tally, elapsed, args)
    return 1 if tally.revoked_accepted or tally.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
