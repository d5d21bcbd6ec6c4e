"""A real gunicorn (2 sync workers) on loopback, on PostgreSQL and a Redis of the test's own.

PostgreSQL is reached through a small TCP relay the test can cut and restore, so that a
database outage is real for the server without stopping the database this suite runs on.
"""

from __future__ import annotations

import json
import os
import socket
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
from django.db import connection

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


class Relay:
    """Forward 127.0.0.1:port to a server (PostgreSQL, Redis) until ``cut()``; ``restore()``
    listens again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        with self.lock:  # a test's timer may restore while the test itself cuts
            self._listen()

    def _listen(self) -> None:
        if self.listener is not None:
            return  # listening already
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            self._cut()

    def _cut(self) -> None:
        listener, self.listener = self.listener, None
        if listener:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() won't
            except OSError:
                pass
            listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:  # the server itself is down: so is this connection
                client.close()
                continue
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Server:
    def __init__(self, url: str) -> None:
        self.url = url

    def request(
        self, method: str, path: str, token: str | None = None, body: dict | None = None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  loopback
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}, dict(response.headers)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else {}, dict(error.headers)

    def sign_in(self, username: str, password: str, **extra: Any) -> dict[str, Any]:
        status, body, _ = self.request(
            "POST", "/api/token/", body={"username": username, "password": password, **extra}
        )
        assert status == 200, body
        return body


@pytest.fixture
def relay() -> Iterator[Relay]:
    settings = connection.settings_dict
    relay = Relay((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    yield relay
    relay.cut()


@pytest.fixture
def redis_relay(own_redis: dict[str, Any]) -> Iterator[Relay]:
    """A relay to the test's own Redis: cut it, and the server loses Redis while others keep it."""
    relay = Relay(("127.0.0.1", int(own_redis["url"].rsplit(":", 1)[1].split("/")[0])))
    yield relay
    relay.cut()


def start_gunicorn(redis_url: str, db_port: int, workers: int = 2, **env: str) -> Any:
    """Start gunicorn on a free port; return (process, Server) once it answers."""
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.server_settings",
        "AT_DB_NAME": connection.settings_dict["NAME"],
        "AT_DB_PORT": str(db_port),
        "AT_REDIS_URL": redis_url,
        **env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "project.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "20",
            "--graceful-timeout",
            "1",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        # AUTHTOKENS_TEST_SERVER_LOG=file keeps the server's log, to debug a failing test.
        stderr=open(os.environ.get("AUTHTOKENS_TEST_SERVER_LOG", os.devnull), "ab"),  # noqa: SIM115
    )
    return process, serving(process, port, "gunicorn")


def serving(process: subprocess.Popen, port: int, name: str) -> Server:
    """Wait until the server on ``port`` answers (30 s at most); return a client for it."""
    server = Server(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            server.request("GET", "/.well-known/jwks.json")
            return server
        except (urllib.error.URLError, ConnectionError):
            assert process.poll() is None, f"{name} exited"
            assert time.monotonic() < deadline, f"{name} did not start"
            time.sleep(0.2)


def start_uvicorn(redis_url: str, store: str) -> Any:
    """Start uvicorn (one ASGI worker) on a free port, with the async views of
    ``tests.integration.async_urls``; return (process, Server) once it answers."""
    port = free_port()
    settings = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.asgi_settings",
        "AT_DB_NAME": settings["NAME"],
        "AT_DB_PORT": str(settings["PORT"] or 5432),
        "AT_REDIS_URL": redis_url,
        "AT_REVOCATION_STORE": store,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "project.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",  # Django's ASGI handler speaks HTTP only
            "--no-access-log",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("AUTHTOKENS_TEST_SERVER_LOG", os.devnull), "ab"),  # noqa: SIM115
    )
    return process, serving(process, port, "uvicorn")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def gunicorn(own_redis: dict[str, Any], relay: Relay, transactional_db: Any) -> Iterator[Server]:
    process, server = start_gunicorn(own_redis["url"], relay.port)
    yield server
    stop(process)


@pytest.fixture
def gunicorn_behind_redis_relay(
    redis_relay: Relay, relay: Relay, transactional_db: Any
) -> Iterator[Server]:
    """gunicorn whose workers reach Redis only through ``redis_relay``."""
    process, server = start_gunicorn(f"redis://127.0.0.1:{redis_relay.port}/0", relay.port)
    yield server
    stop(process)
