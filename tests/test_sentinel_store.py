"""The Redis store behind Redis Sentinel: a master, its replica and three sentinels, started
here (tests/redis_topologies.py).

README, Deployment ("Sentinel") and Guarantees: the store follows the master Sentinel names;
a failover, whether the master dies or is deposed while still up (SENTINEL FAILOVER, a
partition), accepts no revoked token, fails no request and loses no revocation. With
``REDIS_MIN_REPLICAS`` (1 by default with Sentinel) a revocation counts as mirrored only once
a replica holds it, and a master is trusted only while a replica is connected to it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authtokens import tokens
from authtokens.store import get_store
from authtokens.store.redis import RedisStore
from tests.conftest import Load, api_checker, bearer, status
from tests.factories import UserFactory
from tests.test_cluster_store import signed_in, wait_until_redis_answers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sentinel(redis_sentinel: Any, settings: Any) -> Any:
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "REDIS": {
            "SENTINELS": redis_sentinel.sentinels,
            "SERVICE_NAME": redis_sentinel.service_name,
            "OPTIONS": {"socket_timeout": 0.3, "socket_connect_timeout": 0.3},
        },
        "REDIS_RETRY_INTERVAL": timedelta(milliseconds=200),
        "REDIS_AUDIT_INTERVAL": timedelta(milliseconds=200),
    }
    store = get_store()
    assert store.min_replicas == 1  # the default with Sentinel
    assert store.rebuild() == 0
    return redis_sentinel


def claims(token: str) -> dict[str, Any]:
    return tokens.decode(token, token_type=tokens.ACCESS)


def evalsha_calls(client: Any) -> int:
    return int(client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))


def test_a_check_is_one_command_on_the_master_and_no_query(api, sign_in, sentinel):
    store = get_store()
    token = sign_in(UserFactory())["access"]
    assert status(api, token) == 200
    master = sentinel.server_client(sentinel.master_address())
    before = evalsha_calls(master)
    with CaptureQueriesContext(connection) as queries:
        assert store.get_state(claims(token)).user_generation == 0
    assert evalsha_calls(master) - before == 1
    assert len(queries) == 0


def test_a_dead_master_accepts_no_revoked_token_and_loses_nothing(api, sign_in, sentinel):
    pairs = [signed_in(api, sign_in, UserFactory()) for _ in range(3)]
    expected = {
        token: code for revoked, valid in pairs for token, code in ((revoked, 401), (valid, 200))
    }
    late = sign_in(UserFactory())["access"]
    with Load(api_checker, expected) as load:
        time.sleep(0.3)
        old = sentinel.kill_master()
        # Revoked while there is no master: the database and the outbox hold it.
        assert api.post("/api/token/logout/", **bearer(late)).status_code == 204
        sentinel.wait_for_new_master(old)
        time.sleep(1)
    assert len(load.answers) > 50
    assert load.wrong() == []
    for token, code in {**expected, late: 401}.items():
        assert status(api, token) == code


def test_a_deposed_master_still_up_loses_no_revocation(api, sign_in, sentinel):
    """SENTINEL FAILOVER: the old master answers as a master for 10 to 15 s more, and this
    process's connections still reach it. A revocation made meanwhile, through them, must
    hold for every process: one that reconnects to the new master, and this one."""
    store = get_store()
    user = UserFactory()
    victim, witness = sign_in(user)["access"], sign_in(UserFactory())["access"]
    assert status(api, victim) == 200  # this process's connections are on the old master
    sentinel.failover()
    another_process = RedisStore()  # connects now: to the new master
    try:
        another_process.get_state(claims(witness))  # finds it forgetful, and rebuilds it
        another_process.rebuilder.join(timeout=10)
        assert api.post("/api/token/logout/", **bearer(victim)).status_code == 204
        for _ in range(20):
            assert another_process.get_state(claims(victim)).device_revoked
            assert store.get_state(claims(victim)).device_revoked
            time.sleep(0.1)
        sentinel.wait_until_ready()  # the old master is now the new one's replica
        wait_until_redis_answers(another_process, witness, seconds=40)
        assert another_process.get_state(claims(victim)).device_revoked
        assert status(api, victim) == 401
    finally:
        another_process.close()


def test_hung_sentinels_cost_a_request_no_more_than_a_few_timeouts(api, sign_in, sentinel):
    """Every sentinel stopped (SIGSTOP) while the master drops its clients: connecting again
    asks Sentinel, which hangs. A logout and the next check must each end within a few socket
    timeouts, not redis-py's retries of every sentinel (found by an outside attack: 28 s)."""
    import os
    import signal

    user = UserFactory()
    tokens = [sign_in(user)["access"] for _ in range(3)]
    assert all(status(api, token) == 200 for token in tokens)
    master = sentinel.server_client(sentinel.master_address())
    for process in sentinel.sentinel_processes.values():
        os.kill(process.pid, signal.SIGSTOP)
    try:
        master.client_kill_filter(_type="normal", skipme=True)
        for token in tokens:
            for request, expected in (
                (lambda t=token: status(api, t), 200),
                (lambda t=token: api.post("/api/token/logout/", **bearer(t)).status_code, 204),
                (lambda t=token: status(api, t), 401),
            ):
                started = time.monotonic()
                assert request() == expected
                # A bound, not a speed: each of 3 sentinels may cost its 0.3 s timeout once.
                assert time.monotonic() - started < 3
    finally:
        for process in sentinel.sentinel_processes.values():
            os.kill(process.pid, signal.SIGCONT)


def test_an_invalidation_sent_to_a_demoted_master_goes_to_the_new_one(sentinel):
    """The guard's standby connection still reaches the old master once Sentinel has demoted
    it: its DEL gets READONLY. The marker must be dropped on the new master, without a busy
    loop on the old one (the same class as a cluster's MOVED, found by an outside attack)."""
    store = get_store()
    old = sentinel.master_address()
    store.get_state  # noqa: B018  the store is armed: its guard holds a standby connection
    assert store.guard.standing_by or store.guard.wait_idle(1)
    sentinel.failover()
    sentinel.wait_until_ready()  # the old master is the new one's replica now
    received = sentinel.server_client(old).info("stats")["total_connections_received"]
    store.guard.invalidate([0])
    assert store.guard.wait_idle(10)
    time.sleep(1)
    assert sentinel.server_client(old).info("stats")["total_connections_received"] - received < 20
    new = sentinel.server_client(sentinel.master_address())
    assert new.get(store.warm_key) in (None, new.info("server")["run_id"])


def test_a_master_that_refuses_writes_is_not_trusted(api, sign_in, sentinel):
    """As on a cluster: the master serves reads but refuses writes (min-replicas-to-write
    above its replicas). A revocation is refused by every process at once."""
    victim, witness = (sign_in(UserFactory())["access"] for _ in range(2))
    another_process = RedisStore()
    try:
        wait_until_redis_answers(another_process, witness)
        master = sentinel.server_client(sentinel.master_address())
        master.config_set("min-replicas-to-write", 2)
        assert api.post("/api/token/logout/", **bearer(victim)).status_code == 204
        for _ in range(10):
            assert another_process.get_state(claims(victim)).device_revoked
            assert status(api, victim) == 401 and status(api, witness) == 200
            time.sleep(0.1)
        master.config_set("min-replicas-to-write", 0)
        wait_until_redis_answers(another_process, witness)
        assert another_process.get_state(claims(victim)).device_revoked
    finally:
        another_process.close()
