"""The Redis topologies of tests/redis_topologies.py, checked on the real processes with
redis-py's own cluster and sentinel clients: a failover keeps replicated data, a flush or an
empty restart touches one shard, and no process outlives its fixture."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.cluster import ClusterNode, RedisCluster
from redis.sentinel import Sentinel

from tests.redis_topologies import ClusterNodeInfo, ClusterTopology, SentinelTopology

pytestmark = [pytest.mark.redis, pytest.mark.redis_topology]


def cluster_client(topology: ClusterTopology) -> RedisCluster:
    nodes = [ClusterNode(host, port) for host, port in topology.startup_nodes]
    return RedisCluster(startup_nodes=nodes, decode_responses=True)


def key_on(topology: ClusterTopology, master: ClusterNodeInfo, prefix: str = "key") -> str:
    """A key whose slot ``master`` serves."""
    return next(
        key
        for key in (f"{prefix}:{n}" for n in range(100_000))
        if master.owns(topology.slot_of(key))
    )


def one_key_per_shard(topology: ClusterTopology, client: RedisCluster) -> dict[int, str]:
    """Write one key on each master; return them by the master's port."""
    keys = {master.port: key_on(topology, master) for master in topology.masters()}
    for key in keys.values():
        client.set(key, "value")
    return keys


def pid_is_gone(pid: int) -> bool:
    """No such process, or a zombie only (its parent has not reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" in status.read_text()


@pytest.fixture
def cluster(redis_cluster: ClusterTopology) -> Iterator[tuple[ClusterTopology, RedisCluster]]:
    client = cluster_client(redis_cluster)
    yield redis_cluster, client
    client.close()


def test_a_replicated_key_survives_its_masters_death(cluster: Any) -> None:
    topology, client = cluster
    master = topology.masters()[0]
    replica = topology.replica_of(master)
    key = key_on(topology, master)
    client.set(key, "kept")
    # The replica has it before the master dies: WAIT on the master's own connection.
    assert topology.client(master).execute_command("WAIT", 1, 5000) == 1

    topology.kill(master)
    promoted = topology.wait_for_promotion(master)

    assert promoted.node_id == replica.node_id
    assert topology.master_for_key(key).port == replica.port
    assert client.get(key) == "kept"


def test_flush_empties_exactly_one_shard(cluster: Any) -> None:
    topology, client = cluster
    keys = one_key_per_shard(topology, client)
    flushed = topology.masters()[1]

    topology.flush(flushed)

    for port, key in keys.items():
        assert client.get(key) == (None if port == flushed.port else "value")
    assert topology.client(topology.replica_of(flushed)).dbsize() == 0


def test_restart_empty_leaves_that_shard_empty_and_the_cluster_ok(cluster: Any) -> None:
    topology, client = cluster
    keys = one_key_per_shard(topology, client)
    restarted = topology.masters()[2]
    old_pid = restarted.pid

    topology.restart_empty(restarted)

    now = topology.master_for_slot(restarted.slots[0][0])
    assert (now.node_id, now.port) == (restarted.node_id, restarted.port)  # no failover
    assert now.pid != old_pid
    assert topology.client(topology.replica_of(now)).dbsize() == 0  # it resynced, empty
    for port, key in keys.items():
        assert client.get(key) == (None if port == restarted.port else "value")


def test_a_sentinel_failover_moves_the_master_and_clients_follow(
    redis_sentinel: SentinelTopology,
) -> None:
    sentinel = Sentinel(redis_sentinel.sentinels, decode_responses=True, socket_timeout=1)
    sentinel.master_for(redis_sentinel.service_name).set("before", "1")
    old = redis_sentinel.master_address()
    assert redis_sentinel.server_client(old).execute_command("WAIT", 1, 5000) == 1

    new = redis_sentinel.failover()

    assert new != old
    assert sentinel.discover_master(redis_sentinel.service_name) == new
    # A new master_for asks the sentinels. (A pooled connection opened before the failover
    # would still reach the old master, which accepts writes until a sentinel demotes it.)
    master = sentinel.master_for(redis_sentinel.service_name)
    master.set("after", "2")
    assert redis_sentinel.server_client(new).get("after") == "2"
    assert master.get("before") == "1"


def test_no_process_outlives_the_topologies(tmp_path: Path) -> None:
    cluster = ClusterTopology(tmp_path / "cluster")
    sentinel = SentinelTopology(tmp_path / "sentinel")
    try:
        cluster.start()
        sentinel.start()
        pids = cluster.pids + sentinel.pids
        assert len(pids) == 6 + 5
        cluster.kill(cluster.masters()[0])  # stop copes with one already dead
    finally:
        cluster.stop()
        sentinel.stop()
    assert [pid for pid in pids if not pid_is_gone(pid)] == []
