"""gunicorn's workers on a real Redis Cluster and behind real Sentinel (tests/redis_topologies.py):
every worker refuses a revoked token through a master's death, a deposed master and the
recovery after (README, Deployment and Guarantees)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Load
from tests.factories import PASSWORD, UserFactory
from tests.integration.conftest import Relay, Server, start_gunicorn, stop
from tests.settings import REDIS_URL

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 24  # requests per check, spread over the 3 workers by the kernel


def served(relay: Relay, **env: str) -> Iterator[Server]:
    process, server = start_gunicorn(REDIS_URL, relay.port, workers=3, **env)
    try:
        yield server
    finally:
        stop(process)


@pytest.fixture
def on_cluster(redis_cluster: Any, relay: Relay, transactional_db: Any) -> Iterator[Server]:
    yield from served(relay, AT_REDIS_CLUSTER=json.dumps(redis_cluster.startup_nodes))


@pytest.fixture
def behind_sentinel(redis_sentinel: Any, relay: Relay, transactional_db: Any) -> Iterator[Server]:
    yield from served(
        relay,
        AT_REDIS_SENTINELS=json.dumps(redis_sentinel.sentinels),
        AT_REDIS_SERVICE=redis_sentinel.service_name,
    )


def checker(server: Server) -> Any:
    return lambda: lambda token: server.request("GET", "/api/me/", token)[0]


def statuses(server: Server, token: str, rounds: int = ROUNDS) -> set[int]:
    return {server.request("GET", "/api/me/", token)[0] for _ in range(rounds)}


def revoked_and_valid(server: Server) -> tuple[str, str]:
    user = UserFactory()
    revoked, valid = (server.sign_in(user.username, PASSWORD)["access"] for _ in range(2))
    assert server.request("POST", "/api/token/logout/", revoked)[0] == 204
    return revoked, valid


def test_cluster_workers_lose_a_master_and_keep_every_revocation(on_cluster, redis_cluster):
    pairs = [revoked_and_valid(on_cluster) for _ in range(6)]
    expected = {token: code for pair in pairs for token, code in zip(pair, (401, 200), strict=True)}
    for token, code in expected.items():
        assert statuses(on_cluster, token) == {code}
    late = on_cluster.sign_in(UserFactory().username, PASSWORD)["access"]
    with Load(checker(on_cluster), expected, threads=3) as pollers:
        time.sleep(0.5)
        victim = redis_cluster.masters()[0]
        redis_cluster.kill(victim)
        assert on_cluster.request("POST", "/api/token/logout/", late)[0] == 204
        redis_cluster.wait_for_promotion(victim)
        time.sleep(2)
    assert len(pollers.answers) > 100
    assert pollers.wrong() == []  # no revoked token accepted, no 500
    for token, code in {**expected, late: 401}.items():
        assert statuses(on_cluster, token) == {code}


def test_sentinel_workers_keep_a_revocation_made_on_a_deposed_master(
    behind_sentinel, redis_sentinel
):
    """SENTINEL FAILOVER leaves the old master answering for 10 to 15 s; the workers'
    connections still reach it. A logout made then is refused by every worker, then and after
    the old master has become the new one's replica."""
    revoked, valid = revoked_and_valid(behind_sentinel)
    victim = behind_sentinel.sign_in(UserFactory().username, PASSWORD)["access"]
    assert statuses(behind_sentinel, victim) == {200}
    redis_sentinel.failover()
    assert behind_sentinel.request("POST", "/api/token/logout/", victim)[0] == 204
    expected = {revoked: 401, valid: 200, victim: 401}
    with Load(checker(behind_sentinel), expected, threads=3) as pollers:
        redis_sentinel.wait_until_ready()  # the old master is demoted and resynced
        time.sleep(2)
    assert len(pollers.answers) > 50
    assert pollers.wrong() == []
    master = redis_sentinel.server_client(redis_sentinel.master_address())
    assert master.info("replication")["connected_slaves"] == 1
