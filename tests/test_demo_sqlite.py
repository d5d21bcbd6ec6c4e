"""The demo on SQLite (as `make run` configures it: no Redis) under concurrent writes.

SQLite has one writer at a time. Django's default deferred transactions take the write lock
only at their first write, and two of them upgrading at once fail at once with "database is
locked" (the busy timeout does not apply to that upgrade): 503s. The demo opens every
transaction IMMEDIATE, waits for the lock, and uses WAL so readers never block the writer.

The server is gunicorn, two processes of ten threads each: the same settings as `make run`'s
runserver, whose listen backlog of 10 would reset some of 20 simultaneous connections
before they reach Django.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.integration.conftest import stop

ROOT = Path(__file__).resolve().parents[1]
DEMO_USER, DEMO_PASSWORD = "demo", "demo-password-123"  # create_demo_user
CONCURRENCY = 20


def demo_environment(database: Path) -> dict[str, str]:
    """`make run`'s environment: the demo's settings, DEBUG on, SQLite, no Redis."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"SECRET_KEY", "REDIS_URL", "ALLOWED_HOSTS"}
        and not name.startswith(("AUTHTOKENS_", "DJANGO_", "DEBUG"))
    }
    return {
        **environment,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
    }


def post(base: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310  loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        content = error.read()
        try:
            return error.code, json.loads(content)
        except ValueError:
            return error.code, {"raw": content[:500].decode(errors="replace")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make run` on a fresh SQLite file: migrate, the demo user, a server; its base URL."""
    database = tmp_path_factory.mktemp("demo-sqlite") / "db.sqlite3"
    environment = demo_environment(database)
    for command in (["migrate", "--noinput"], ["create_demo_user"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
            timeout=120,
        )
    port = free_port()
    log = database.parent / "server.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                str(CONCURRENCY // 2),
                "--timeout",
                "60",
                "--no-control-socket",  # no shared ~/.gunicorn socket with other servers
            ],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/.well-known/jwks.json", timeout=10).close()  # noqa: S310
            break
        except OSError:  # refused, reset or timed out while the workers boot
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
    yield base
    stop(process)


def native_sign_in(base: str, name: str) -> dict[str, Any]:
    status, body = post(
        base,
        "/api/token/",
        {
            "username": DEMO_USER,
            "password": DEMO_PASSWORD,
            "client": "native",
            "audience": "Android-App",
            "device_name": name,
        },
    )
    assert status == 200, body
    return body


def all_at_once(calls: list[Any]) -> list[tuple[int, dict[str, Any]]]:
    """Run every call in its own thread, released together; their answers, in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_twenty_devices_refresh_at_once_on_sqlite_without_a_503(demo):
    refresh_tokens = [
        native_sign_in(demo, f"Phone {index}")["refresh"] for index in range(CONCURRENCY)
    ]
    answers = all_at_once(
        [
            lambda token=token: post(demo, "/api/token/refresh/", {"refresh": token})
            for token in refresh_tokens
        ]
    )
    statuses = [status for status, _ in answers]
    assert statuses == [200] * CONCURRENCY, answers
    assert len({body["refresh"] for _, body in answers}) == CONCURRENCY


def test_twenty_sign_ins_and_refreshes_at_once_on_sqlite_without_a_503(demo):
    """Writes of every kind at once: new devices, rotations, and the same token twenty times
    (inside the grace window: each served, or refused cleanly, never a 5xx)."""
    shared = native_sign_in(demo, "Shared phone")["refresh"]
    calls = [
        lambda index=index: post(
            demo,
            "/api/token/",
            {"username": DEMO_USER, "password": DEMO_PASSWORD, "device_name": f"Tab {index}"},
        )
        for index in range(CONCURRENCY // 2)
    ] + [lambda: post(demo, "/api/token/refresh/", {"refresh": shared}) for _ in range(CONCURRENCY)]
    answers = all_at_once(calls)
    sign_ins, refreshes = answers[: CONCURRENCY // 2], answers[CONCURRENCY // 2 :]
    assert [status for status, _ in sign_ins] == [200] * (CONCURRENCY // 2), sign_ins
    assert all(status in (200, 401) for status, _ in refreshes), refreshes
    assert any(status == 200 for status, _ in refreshes), refreshes
