"""Shared fixtures: a clean Redis per test, an API client, users, and signing in.

Two lanes. ``make test`` runs everything on PostgreSQL and Redis (``tests/settings.py``).
``make test-fast`` runs on SQLite with the database store (``tests/settings_fast.py``) and
deselects the tests marked as needing a service; ``pytest_collection_modifyitems`` marks whole
folders and the users of the Redis fixtures, modules mark the rest themselves.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.utils import translation
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from authtokens import jws, keys
from authtokens.store import get_store, reset_stores
from authtokens.store.redis import RedisStore
from authtokens.store.scripts import READ_STATE
from tests.factories import PASSWORD, UserFactory


def reset_process_state() -> None:
    """Forget everything a process keeps between requests, so no test sees another's:
    store instances (their outage flags, retry windows, background threads), the parsed key
    ring and token headers, and the language a request's Accept-Language activated."""
    reset_stores()
    keys.clear_key_ring_cache(setting="AUTHTOKENS")
    jws.parse_header.cache_clear()
    translation.deactivate()  # back to LANGUAGE_CODE: LocaleMiddleware leaves its choice active


@pytest.fixture(autouse=True)
def process_state() -> Iterator[None]:
    reset_process_state()
    yield
    reset_process_state()


# Folders whose every test needs a service, and fixtures that bring Redis with them.
FOLDER_MARKERS = {"integration": "integration", "packaging": "integration", "browser": "browser"}
FIXTURE_MARKERS = {
    "redis": ("redis",),
    "own_redis": ("redis",),
    "faulty": ("redis",),
    "redis_cluster": ("redis", "redis_topology"),
    "redis_sentinel": ("redis", "redis_topology"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.parent.name
        fixtures = getattr(item, "fixturenames", ())
        names = {FOLDER_MARKERS.get(folder)}
        names |= {name for f in fixtures for name in FIXTURE_MARKERS.get(f, ())}
        for name in sorted(names - {None}):
            item.add_marker(name)


@pytest.fixture(autouse=True)
def clean_redis(process_state: None) -> Iterator[Any]:
    """Start each test with an empty, warm mirror: true, since the test database is empty."""
    if getattr(django_settings, "FAST_LANE", False):  # no Redis: empty the in-process cache instead
        caches["default"].clear()
        yield None
        return
    client = get_redis_connection("default")
    client.flushdb()
    # Warm, and marked as written on this very Redis instance: the audit checks its run_id,
    # and every read runs the read script by its sha (a restart forgets it).
    client.script_load(READ_STATE)
    client.set(RedisStore().warm_key, client.info("server")["run_id"])
    yield client


@pytest.fixture
def redis(clean_redis: Any) -> Any:
    return clean_redis


@pytest.fixture
def store() -> Any:
    return get_store()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def sign_in(api: APIClient) -> Any:
    """Sign a user in through the API and return the JSON body."""

    def sign_in(user: Any, **body: Any) -> dict[str, Any]:
        response = api.post(
            "/api/token/",
            {"username": user.username, "password": PASSWORD, **body},
            format="json",
            HTTP_USER_AGENT="pytest",
        )
        assert response.status_code == 200, response.content
        return response.json()

    return sign_in


def cookie_login(client: Any, user: Any, device_name: str = "Test browser") -> str:
    """Sign ``client`` (Django's test client) in as ``user`` the way the sign-in page does: a
    new browser device and its token in the HttpOnly cookie. Return the device id.

    ``Client.force_login`` makes a Django session, which grants nothing here: the token cookie
    is the browser's one session (authtokens.middleware.TokenUserMiddleware)."""
    from authtokens import services
    from authtokens.cookies import cookie_name

    issued = services.issue(user, device_name=device_name, user_agent="pytest browser")
    client.cookies[cookie_name()] = issued.access
    return str(issued.device.pk)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A redis-server of the test's own on a free port, that the test may stop; a SAVE goes
    to a directory of its own."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; .ci/run installs it")
    port, directory = free_port(), tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    own = {"url": f"redis://127.0.0.1:{port}/0", "process": process, "dir": directory}
    yield own
    # A test that restarts the server puts the new process in own["process"]: stop both.
    for started in {process, own["process"]}:
        started.kill()
        started.wait()


def started_topology(topology: Any) -> Iterator[Any]:
    """Start ``topology``, yield it, and kill all its processes afterwards, whatever the test
    did; a missing redis-server fails the test with the reason."""
    from tests.redis_topologies import TopologyError, redis_binary

    try:
        redis_binary("redis-server"), redis_binary("redis-cli")
    except TopologyError as error:
        pytest.fail(str(error))
    try:
        yield topology.start()
    finally:
        topology.stop()


@pytest.fixture
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Redis Cluster: 3 masters, one replica each (tests/redis_topologies.py)."""
    from tests.redis_topologies import ClusterTopology

    yield from started_topology(ClusterTopology(tmp_path_factory.mktemp("cluster")))


@pytest.fixture(scope="session")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real Redis Cluster for the whole session, for tests that only read and write it
    (the store contract); tests that break a cluster start their own (``redis_cluster``)."""
    from tests.redis_topologies import ClusterTopology

    yield from started_topology(ClusterTopology(tmp_path_factory.mktemp("shared-cluster")))


@pytest.fixture
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Sentinel setup: master, replica, 3 sentinels (tests/redis_topologies.py)."""
    from tests.redis_topologies import SentinelTopology

    yield from started_topology(SentinelTopology(tmp_path_factory.mktemp("sentinel")))


@pytest.fixture
def faulty(own_redis, settings):
    """Point the revocation store at our own Redis, warm and mirrored."""
    settings.CACHES = {
        **settings.CACHES,
        "revocations": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": own_redis["url"],
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
        },
    }
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS_CACHE_ALIAS": "revocations"}
    assert get_store().rebuild() == 0
    own_redis["client"] = get_redis_connection("revocations")
    return own_redis  # the same dict: a server a test restarts into it is stopped at the end


def run_project_suite(test_file: str, settings_module: str) -> subprocess.CompletedProcess:
    """Run the checks of a second project (its own settings and conftest) in a pytest of its
    own, so that its settings never mix with the suite's; return the finished process."""
    folder = test_file.rsplit("/", 1)[0]
    return subprocess.run(
        [sys.executable, "-m", "pytest", test_file, "-q", "-p", "no:cacheprovider"]
        + ["-p", "no:randomly", f"--confcutdir={folder}", f"--ds={settings_module}"],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings_module},
        capture_output=True,
        text=True,
        timeout=300,
    )


def unreachable_default_cache(settings):
    """Point the default cache (throttle counts) at a port nobody listens on; revocations
    go to the database store, so that only the cache is away."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "REVOCATION_STORE": "authtokens.store.database.DatabaseStore",
    }


def signed_in_pair(api, user, sign_in):
    revoked, valid = sign_in(user), sign_in(user)
    assert api.post("/api/token/logout/", **bearer(revoked["access"])).status_code == 204
    return revoked["access"], valid["access"]


def status(api, token):
    return api.get("/ping/", **bearer(token)).status_code


def wait_until_warm(client, store, seconds=10):
    """The rebuild runs in a background thread: wait for it, boundedly."""
    deadline = time.monotonic() + seconds
    while client.get(store.warm_key) is None:
        assert time.monotonic() < deadline, "the mirror was not rebuilt"
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def forget_recorded_use() -> None:
    """Each test starts with an empty record of device use (``authtokens.usage``)."""
    from authtokens import usage

    usage.reset()


@pytest.fixture(autouse=True)
def forget_failure_counts() -> None:
    """Each test starts with no failure counts kept in the process (``authtokens.limits``)."""
    from authtokens import limits

    limits.reset()


class Load:
    """Threads checking tokens without pause while a test breaks something; every answer is
    recorded. ``checker()`` runs once in each thread and returns its ``check(token) -> status``
    (a Django test client's, or an HTTP client's of a real server)."""

    def __init__(self, checker: Any, expected: dict[str, int], threads: int = 4) -> None:
        self.checker, self.expected = checker, dict(expected)
        self.answers: list[tuple[str, int]] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        from django.db import connection

        check = self.checker()
        try:
            while not self.stopping.is_set():
                for token in self.expected:
                    self.answers.append((token, check(token)))
        finally:
            connection.close()  # this thread's own database connection

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def wrong(self) -> list[tuple[str, int, int]]:
        """Every answer that was not the expected one: (token's end, got, expected)."""
        return [
            (token[-12:], got, self.expected[token])
            for token, got in self.answers
            if got != self.expected[token]
        ]


def api_checker() -> Any:
    """For ``Load``: a thread's own Django test client, checking tokens on ``/ping/``."""
    api = APIClient()
    return lambda token: status(api, token)
