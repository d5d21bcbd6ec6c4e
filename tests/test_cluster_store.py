"""The Redis store on a real Redis Cluster: 3 masters with a replica each, started here
(tests/redis_topologies.py).

README, Deployment ("Redis Cluster") and Guarantees: a check is one command on the node that
serves its user; users spread over every master; a shard that is flushed, restarted empty or
failed over is rebuilt alone while the others keep answering from Redis; in every case no
revoked token is accepted, no request fails, and no revocation is lost.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authtokens.store import get_store
from authtokens.store.redis import RedisStore
from tests.conftest import Load, api_checker, bearer, status
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def cluster_settings(settings: Any, topology: Any) -> None:
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "REDIS": {
            "CLUSTER": topology.startup_nodes,
            "OPTIONS": {"socket_timeout": 0.3, "socket_connect_timeout": 0.3},
        },
        "REDIS_RETRY_INTERVAL": timedelta(milliseconds=200),
        "REDIS_AUDIT_INTERVAL": timedelta(milliseconds=200),
    }


@pytest.fixture
def cluster(redis_cluster: Any, settings: Any) -> Any:
    """The store on the cluster, every group warm."""
    cluster_settings(settings, redis_cluster)
    store = get_store()
    assert store.groups == 256 and store.rebuild() == 0
    return redis_cluster


def group_warm(store: Any, group: int) -> bool:
    return store.topology().client.exists(store.group_trust_keys(group)[0]) == 1


def wait_until_redis_answers(store: Any, token: str, seconds: float = 30) -> None:
    """Check ``token`` until Redis answers it (no SQL query): its group is warm on a master
    with a replica; a cold group is rebuilt by its first read, as traffic does."""
    deadline = time.monotonic() + seconds
    while True:
        with CaptureQueriesContext(connection) as queries:
            store.get_state(_claims(token))
        if not queries:
            return
        assert time.monotonic() < deadline, "Redis never answered again"
        time.sleep(0.2)


def master_of(store: Any, topology: Any, user: Any) -> Any:
    return topology.master_for_slot(store.slot_of(store.group_of(str(user.pk))))


def users_on_each_master(store: Any, topology: Any, per_master: int = 2) -> dict[int, list]:
    """Users and their signed-in pairs (revoked, valid), ``per_master`` on each master."""
    found: dict[int, list] = {master.port: [] for master in topology.masters()}
    while any(len(users) < per_master for users in found.values()):
        user = UserFactory()
        port = master_of(store, topology, user).port
        if len(found[port]) < per_master:
            found[port].append(user)
    return found


def signed_in(api: Any, sign_in: Any, user: Any) -> tuple[str, str]:
    revoked, valid = sign_in(user)["access"], sign_in(user)["access"]
    assert api.post("/api/token/logout/", **bearer(revoked)).status_code == 204
    return revoked, valid


def test_keys_spread_by_user_over_every_master(cluster: Any) -> None:
    """10,000 users' generations: each master holds about a third of them (the README's
    spread table comes from this test's output)."""
    store = get_store()
    client = store.topology().client
    pipe = client.pipeline(transaction=False)
    for user_id in range(10_000):
        pipe.set(store.user_key("u", str(user_id), str(user_id)), 1)
    pipe.execute()
    shares = {}
    for master in cluster.masters():
        generations = len(list(cluster.client(master).scan_iter(match="*:u:*", count=1000)))
        shares[master.port] = generations / 10_000
    print("share of 10,000 users per master:", shares)
    assert all(0.30 <= share <= 0.37 for share in shares.values()), shares


def test_a_check_is_one_command_on_its_users_node_and_no_query(api, sign_in, cluster) -> None:
    store = get_store()
    user = UserFactory()
    token = sign_in(user)["access"]
    assert status(api, token) == 200  # the read connection is open now

    def evalshas() -> Counter:
        return Counter(
            {
                master.port: int(
                    cluster.client(master)
                    .info("commandstats")
                    .get("cmdstat_evalsha", {})
                    .get("calls", 0)
                )
                for master in cluster.masters()
            }
        )

    before = evalshas()
    with CaptureQueriesContext(connection) as queries:
        assert store.get_state(_claims(token)).user_generation == 0
    after = evalshas()
    assert sum((after - before).values()) == 1
    assert (after - before)[master_of(store, cluster, user).port] == 1
    assert len(queries) == 0


def _claims(token: str) -> dict[str, Any]:
    from authtokens import tokens

    return tokens.decode(token, token_type=tokens.ACCESS)


@pytest.mark.parametrize("fault", ["flush", "restart_empty"])
def test_a_shard_that_loses_its_data_is_rebuilt_alone(api, sign_in, cluster, fault):
    """One master flushed, or restarted empty (its replica resyncs empty too): its users are
    checked in the database until its groups are rebuilt; the other shards keep answering
    from Redis, and no revoked token gets in."""
    store = get_store()
    users = users_on_each_master(store, cluster, per_master=1)
    pairs = {port: signed_in(api, sign_in, found[0]) for port, found in users.items()}
    broken = cluster.masters()[0]
    getattr(cluster, fault)(broken)
    for revoked, valid in pairs.values():
        assert status(api, revoked) == 401 and status(api, valid) == 200
    for port, (_, valid) in pairs.items():
        if port == broken.port:
            continue
        with CaptureQueriesContext(connection) as queries:
            assert store.get_state(_claims(valid)).user_generation == 0
        assert len(queries) == 0, f"a user on master {port} was checked in the database"
    for token in (t for pair in pairs.values() for t in pair):
        wait_until_redis_answers(store, token)  # rebuilt by the first reads, as traffic does
    for revoked, valid in pairs.values():
        assert status(api, revoked) == 401 and status(api, valid) == 200


def test_killing_a_master_under_load_accepts_no_revoked_token(api, sign_in, cluster):
    """The master of some users dies; its replica is promoted. Throughout: revoked tokens
    401, valid ones 200 (the database answers for the dead shard), never a 500. A revocation
    made while the shard is down holds after the promotion, while the promoted master has no
    replica (its users are checked in the database: REDIS_MIN_REPLICAS), and after the dead
    node has come back as its replica and Redis answers for that shard again."""
    store = get_store()
    users = users_on_each_master(store, cluster, per_master=2)
    expected: dict[str, int] = {}
    valid_on: dict[int, str] = {}
    for port, found in users.items():
        revoked, valid_on[port] = signed_in(api, sign_in, found[0])
        expected |= {revoked: 401, valid_on[port]: 200}
    victim = cluster.masters()[2]
    during = users[victim.port][1]
    late_revoked = sign_in(during)["access"]
    with Load(api_checker, expected) as load:
        time.sleep(0.5)
        cluster.kill(victim)
        # Revoked while its shard is down: the copy fails, the database and outbox hold it.
        assert api.post("/api/token/logout/", **bearer(late_revoked)).status_code == 204
        assert status(api, late_revoked) == 401
        cluster.wait_for_promotion(victim)
        time.sleep(1.5)
    assert len(load.answers) > 100
    assert load.wrong() == []
    expected[late_revoked] = 401
    for token, code in expected.items():
        assert status(api, token) == code
    cluster.processes[victim.port] = cluster.start_node(victim.port)  # back, as a replica
    cluster.wait_until_ready()
    for token, code in expected.items():
        wait_until_redis_answers(store, token)  # every group warm again, on every shard
        assert status(api, token) == code


def test_a_manual_failover_loses_no_revocation_made_through_the_old_slot_map(api, sign_in, cluster):
    """CLUSTER FAILOVER turns a master into its replica's replica. This process still routes
    that shard to the old master: a logout made through it must hold for a process that knows
    the new map, at once (found by an outside attack: 19 revoked tokens accepted for up to
    4.9 s)."""
    store = get_store()
    users = users_on_each_master(store, cluster, per_master=1)
    shard = cluster.masters()[0]
    user = users[shard.port][0]
    victims = [sign_in(user)["access"] for _ in range(4)]
    assert all(status(api, token) == 200 for token in victims)  # routed to the old master
    cluster.manual_failover(shard)
    another_process = RedisStore()  # learns the new map
    try:
        wait_until_redis_answers(another_process, victims[0])  # warm on the new master
        for token in victims:
            assert api.post("/api/token/logout/", **bearer(token)).status_code == 204
            for reader in (another_process, store):
                assert reader.get_state(_claims(token)).device_revoked
    finally:
        another_process.close()


def test_an_invalidation_sent_to_a_demoted_node_goes_to_the_new_master(cluster):
    """A guard whose node lost its slots gets MOVED: it must deliver the marker drop to the
    node that serves the group now, and never retry the old node in a loop (found by an
    outside attack: thousands of connections a second, for ever)."""
    store = get_store()
    group = 0
    old = cluster.master_for_slot(store.slot_of(group))
    old_name = store.node_name(group)
    new = cluster.manual_failover(old)
    received = cluster.client(old).info("stats")["total_connections_received"]
    store.guard_for(old_name).invalidate([group])
    assert store.guard_for(old_name).wait_idle(10)
    time.sleep(1)
    assert cluster.client(old).info("stats")["total_connections_received"] - received < 20
    # Dropped on the node that serves the group now: the old master's marker is gone (a
    # rebuild on the new master may have set its own since).
    marker = cluster.client(new).get(store.group_trust_keys(group)[0])
    assert marker in (None, cluster.client(new).info("server")["run_id"])


def test_a_master_that_refuses_writes_is_not_trusted(api, sign_in, cluster):
    """A master up and serving reads that refuses writes (here ``min-replicas-to-write`` above
    its replicas; MISCONF alike): a revocation's copy and the marker's DEL are both refused.
    Every process must refuse the revoked token at once, the guard must not hammer the node,
    and Redis answers again once it takes writes (found by an outside attack: 369 revoked
    tokens accepted in 10 s)."""
    store = get_store()
    users = users_on_each_master(store, cluster, per_master=1)
    shard = cluster.masters()[0]
    victim, witness = (sign_in(users[shard.port][0])["access"] for _ in range(2))
    another_process = RedisStore()
    try:
        wait_until_redis_answers(another_process, witness)  # warm, trusted
        node = cluster.client(shard)
        node.config_set("min-replicas-to-write", 2)  # it has 1 replica: every write refused
        received = node.info("stats")["total_connections_received"]
        assert api.post("/api/token/logout/", **bearer(victim)).status_code == 204
        for _ in range(20):
            assert another_process.get_state(_claims(victim)).device_revoked
            assert status(api, victim) == 401 and status(api, witness) == 200
            time.sleep(0.1)
        assert node.info("stats")["total_connections_received"] - received < 40
        node.config_set("min-replicas-to-write", 0)
        wait_until_redis_answers(another_process, witness)
        assert another_process.get_state(_claims(victim)).device_revoked
    finally:
        another_process.close()
