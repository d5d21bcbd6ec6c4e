"""The Redis Cluster of a run, and its own figures: memory per revoked token and the spread of
users over the masters.

The harness starts one cluster (3 masters, 3 replicas: tests/redis_topologies.py, the one the
cluster tests use) for the whole run and always stops it (``running``); the servers and
workers reach it through BENCH_CLUSTER. As a worker (``python -m benchmarks.cluster``) it
rebuilds the mirror (``rebuild``), or measures and prints one JSON document (``figures``).
The cluster is the harness's own: it FLUSHes its masters freely.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ENV = "BENCH_CLUSTER"


@contextmanager
def running() -> Iterator[Any]:
    """A fresh cluster for the run, named in BENCH_CLUSTER for every server and worker; every
    redis-server it started is killed on the way out, whatever happened."""
    # The tests' topology, not a copy: the harness runs from the repository root, where
    # ``tests`` is a package (it is not shipped, and neither is this harness).
    from tests.redis_topologies import ClusterTopology

    with tempfile.TemporaryDirectory(prefix="authtokens-bench-cluster-") as directory:
        topology = ClusterTopology(Path(directory))
        try:
            topology.start()  # kills what it started if it fails half-way
            os.environ[ENV] = ",".join(f"{h}:{p}" for h, p in topology.startup_nodes)
            yield topology
        finally:
            os.environ.pop(ENV, None)
            topology.stop()


def empty(topology: Any) -> None:
    """FLUSHALL every master (and wait for its replica): a fresh database's mirror must not
    meet the previous database's keys."""
    for master in topology.masters():
        topology.flush(master)


# --- in a worker, with BENCH_STORE=redis-cluster -------------------------------------------


def rebuild() -> dict[str, Any]:
    """Copy the database into the cluster and mark every group warm, as a deployment does
    after a flush; the servers then answer from Redis from their first request."""
    from authtokens.store import get_store

    store: Any = get_store()
    started = time.perf_counter()
    entries = store.rebuild()
    cluster = store.topology().client
    cold = [g for g in range(store.groups) if not cluster.exists(store.group_trust_keys(g)[0])]
    if entries is None or cold:  # measured cold, the figure would be the database store's
        raise RuntimeError(f"the cluster's mirror was not rebuilt ({len(cold)} groups cold)")
    return {"groups": store.groups, "entries": entries, "seconds": time.perf_counter() - started}


def _masters(store: Any) -> dict[str, Any]:
    """Each master's name (host:port) and a plain client of it."""
    cluster = store.topology().client
    return {node.name: node.redis_connection for node in cluster.get_primaries()}


def _master_of_group(store: Any) -> dict[int, str]:
    cluster = store.topology().client
    return {
        group: cluster.nodes_manager.get_node_from_slot(store.slot_of(group)).name
        for group in range(store.groups)
    }


def _settled_memory(clients: dict[str, Any]) -> dict[str, int]:
    """used_memory of each master once its replica has everything and lazy frees and
    rehashing have settled, without what replication itself holds: the backlog (Redis 7 grows
    it with the write stream, up to repl-backlog-size, 1 MB) and the replicas' output buffers.
    A single node without replicas has neither, so the two figures compare the data alone."""
    for client in clients.values():
        client.execute_command("WAIT", 1, 5000)
    time.sleep(0.2)
    return {name: _data_memory(client.info("memory")) for name, client in clients.items()}


def _data_memory(memory: dict[str, Any]) -> int:
    replication = int(memory.get("mem_replication_backlog", 0))
    return int(memory["used_memory"]) - replication - int(memory.get("mem_clients_slaves", 0))


def spread(users: int) -> dict[str, Any]:
    """Which master serves each of ``users`` users (ids 1..users, as primary keys are)."""
    from authtokens.store import get_store

    store: Any = get_store()
    master_of = _master_of_group(store)
    per_master = Counter(master_of[store.group_of(str(uid))] for uid in range(1, users + 1))
    groups = Counter(master_of.values())
    return {
        "users": users,
        "groups": store.groups,
        "per_master": {
            name: {"users": per_master[name], "groups": groups[name]} for name in sorted(groups)
        },
    }


def _check_key_shape(store: Any, clients: dict[str, Any], expires_at: Any) -> str:
    """One real ``token_revoked``: the bucket it writes is the one the figure's writes name,
    on the master the figure sends it to."""
    from authtokens import tokens

    jti, user_id = tokens.new_jti(), "42"
    group = store.group_of(user_id)
    store.token_revoked(jti, expires_at, user_id)
    key = store.token_bucket(jti, int(expires_at.timestamp()), group)
    client = clients[_master_of_group(store)[group]]
    assert client.hexists(key, jti) and client.pttl(key) > 0, key
    return str(key)


def _write_revocations(
    store: Any, clients: dict[str, Any], n: int, users: int, expires_at: Any
) -> Counter[str]:
    """``n`` revocations, user after user, each through the store's own ``write_token`` in a
    pipeline to the master of the user's group; how many went to each master."""
    from authtokens import tokens

    master_of = _master_of_group(store)
    pipes = {name: client.pipeline(transaction=False) for name, client in clients.items()}
    written: Counter[str] = Counter()
    for i in range(n):
        user_id = str(1 + i % users)
        name = master_of[store.group_of(user_id)]
        store.write_token(pipes[name], tokens.new_jti(), expires_at, user_id)
        written[name] += 1
        if i % 10000 == 0:
            for pipe in pipes.values():
                pipe.execute()
    for pipe in pipes.values():
        pipe.execute()
    return written


def memory(n: int, users: int) -> dict[str, Any]:
    """``n`` revocations of tokens of ``users`` users, written with the store's own write on
    the master of each user's group: the used_memory delta summed over the masters."""
    from django.utils import timezone

    from authtokens.store import get_store

    store: Any = get_store()
    clients = _masters(store)
    expires_at = timezone.now() + timedelta(minutes=15)  # one hour bucket, as single-node
    for client in clients.values():
        client.flushall()
    key_example = _check_key_shape(store, clients, expires_at)
    for client in clients.values():
        client.flushall()
    before = _settled_memory(clients)
    written = _write_revocations(store, clients, n, users, expires_at)
    after = _settled_memory(clients)
    per_master = {
        name: {
            "revocations": written[name],
            "keys": int(clients[name].dbsize()),
            "used_memory_delta": after[name] - before[name],
        }
        for name in sorted(clients)
    }
    for client in clients.values():
        client.flushall()  # the mirror is cold now: nothing measures it after this
    total = sum(m["used_memory_delta"] for m in per_master.values())
    return {
        "n": n,
        "users": users,
        "key_example": key_example,
        "bytes_per_token": total / n,
        "per_master": per_master,
    }


def main() -> None:
    from .common import setup_django

    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["rebuild", "figures"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--memory-n", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    setup_django(args.db, "redis-cluster")
    if args.action == "rebuild":
        result = rebuild()
    else:
        result = {
            "spread": spread(args.users),
            "memory": memory(args.memory_n, args.users),
        }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
