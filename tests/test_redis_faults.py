"""Redis flushed, stopped, hung or unreachable: nothing revoked gets in.

README, Guarantees: "Redis flushed, restarted empty or failed over empty never brings a revoked
token back" and "Redis stopped or hung never lets a revoked token in".

These tests run their own redis-server, so they can stop and break it for real.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess

import pytest

from authtokens.store import get_store
from tests.conftest import bearer, signed_in_pair, status, wait_until_warm

pytestmark = pytest.mark.django_db(transaction=True)


def test_flushall_never_brings_a_revoked_token_back(api, user, sign_in, faulty):
    revoked, valid = signed_in_pair(api, user, sign_in)
    faulty["client"].flushall()
    assert status(api, revoked) == 401  # answered from the database while cold
    assert status(api, valid) == 200
    store = get_store()
    wait_until_warm(faulty["client"], store)
    assert faulty["client"].keys(f"{store.key('d', '')}*") != []  # the revoked device
    assert status(api, revoked) == 401 and status(api, valid) == 200


def test_redis_stopped_falls_back_to_the_database_and_logs_once(api, user, sign_in, faulty, caplog):
    revoked, valid = signed_in_pair(api, user, sign_in)
    faulty["process"].kill()
    faulty["process"].wait()
    with caplog.at_level(logging.ERROR, logger="authtokens.store"):
        for _ in range(5):
            assert status(api, revoked) == 401
            assert status(api, valid) == 200
    outage_lines = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_lines) == 1


def test_redis_back_empty_after_a_stop_is_rebuilt(api, user, sign_in, faulty, settings):
    from datetime import timedelta

    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS_RETRY_INTERVAL": timedelta(0)}
    revoked, valid = signed_in_pair(api, user, sign_in)
    port = faulty["url"].rsplit(":", 1)[1].split("/")[0]
    faulty["process"].kill()
    faulty["process"].wait()
    assert status(api, revoked) == 401
    restarted = subprocess.Popen(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = faulty["client"]
        for _ in range(100):
            try:
                client.ping()
                break
            except Exception:  # noqa: BLE001  still starting
                import time

                time.sleep(0.05)
        assert status(api, revoked) == 401
        assert status(api, valid) == 200
        wait_until_warm(client, get_store())
    finally:
        restarted.kill()
        restarted.wait()


def test_revocation_while_redis_hangs_is_not_lost_when_it_returns(
    api, user, sign_in, faulty, settings
):
    """Redis hangs (SIGSTOP), a device is revoked, Redis comes back with its old data: the
    mirror must not be trusted until it holds the revocation made meanwhile."""
    from datetime import timedelta

    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS_RETRY_INTERVAL": timedelta(0)}
    victim, valid = sign_in(user), sign_in(user)
    pid = faulty["process"].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        assert api.post("/api/token/logout/", **bearer(victim["access"])).status_code == 204
        assert status(api, victim["access"]) == 401
    finally:
        os.kill(pid, signal.SIGCONT)
    # Redis is back with its warm marker and without the revocation: it must not be trusted.
    assert status(api, victim["access"]) == 401
    assert status(api, valid["access"]) == 200
    wait_until_warm(faulty["client"], get_store())
    device_key = get_store().key("d", victim["device"]["id"])
    assert faulty["client"].exists(device_key)


def test_redis_unreachable_from_the_start(api, user, sign_in, settings):
    from tests.conftest import free_port

    settings.CACHES = {
        **settings.CACHES,
        "nowhere": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
        },
    }
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS_CACHE_ALIAS": "nowhere"}
    revoked, valid = signed_in_pair(api, user, sign_in)
    assert status(api, revoked) == 401
    assert status(api, valid) == 200


def test_a_rebuild_interrupted_by_a_flush_does_not_mark_the_mirror_warm(user, faulty, sign_in):
    store = get_store()
    client = faulty["client"]
    client.delete(store.warm_key)
    client.set(store.key("rebuild"), "someone-else")  # another process is rebuilding
    assert store.rebuild() is None
    assert client.get(store.warm_key) is None
