"""Real Redis topologies for tests: a Redis Cluster (3 masters, 3 replicas) and a Sentinel
setup (1 master, 1 replica, 3 sentinels), started from Debian's redis-server.

No fakes: a failover here is the one Redis does, with its timings and its errors. Each process
runs on free ports, in a directory of its own, without persistence (``--save "" --appendonly
no``), bound to 127.0.0.1; ``stop()`` kills every process this module started, by pid, and
is safe to call twice or after a failed start. The fixtures ``redis_cluster`` and
``redis_sentinel`` in tests/conftest.py wrap them.
"""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import redis
from redis.crc import key_slot

HOST = "127.0.0.1"
NO_PERSISTENCE = ["--save", "", "--appendonly", "no"]
# Small enough that a failover takes a few seconds; large enough that a loaded machine, or a
# master restarted in a fraction of a second, is not taken for a dead one.
CLUSTER_NODE_TIMEOUT_MS = 1500
CLUSTER_BUS_OFFSET = 10000  # Redis Cluster's bus listens on port + 10000
SLOT_COUNT = 16384


class TopologyError(RuntimeError):
    """A topology did not reach the state a test waits for, in time."""


def redis_binary(name: str = "redis-server") -> str:
    """The path of ``name``; a clear failure when the package is missing."""
    path = shutil.which(name)
    if path is None:
        raise TopologyError(f"{name} is not installed; .ci/run installs it (apt redis-server)")
    return path


def can_bind(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def free_cluster_ports(count: int) -> list[int]:
    """``count`` ports free together with their cluster bus port (port + 10000). Drawn below
    the kernel's ephemeral range (32768 and up) so that the bus port stays under 65536 and
    outgoing connections are unlikely to take either in between."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, 22767)  # noqa: S311 (a port, not a secret)
        if port not in ports and can_bind(port) and can_bind(port + CLUSTER_BUS_OFFSET):
            ports.append(port)
    return ports


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy; connection errors count as not
    yet (a node may be starting or dead). Raise TopologyError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except (redis.RedisError, OSError) as error:
            last_error = error
        if time.monotonic() > deadline:
            raise TopologyError(f"timed out after {timeout} s waiting for {what} ({last_error})")
        time.sleep(0.05)


def client_for(port: int) -> redis.Redis:
    """A short-lived, decoded, quick-to-fail client of one process."""
    return redis.Redis(
        host=HOST, port=port, decode_responses=True, socket_timeout=1, socket_connect_timeout=1
    )


@dataclass
class Process:
    """One redis-server (or sentinel) this module started: its port, directory and Popen."""

    port: int
    directory: Path
    popen: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash: no shutdown save, no goodbye to the cluster."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)


def start_redis(port: int, directory: Path, *options: str) -> Process:
    """Start a redis-server on ``port`` with its own directory and log file, and wait until it
    answers PING."""
    directory.mkdir(parents=True, exist_ok=True)
    command = [redis_binary(), *options, "--port", str(port), "--bind", HOST]
    command += ["--dir", str(directory), "--logfile", str(directory / "redis.log")]
    process = Process(port, directory, subprocess.Popen(command, stdout=subprocess.DEVNULL))
    wait_until_answering(process)
    return process


def wait_until_answering(process: Process, timeout: float = 10) -> None:
    def answers() -> bool:
        if not process.alive():
            log = process.directory / "redis.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise TopologyError(f"redis on port {process.port} exited: {tail}")
        return bool(client_for(process.port).ping())

    wait_until(answers, timeout, f"redis on port {process.port} to answer PING")


def kill_all(processes: list[Process]) -> None:
    """Kill each process, even when another fails to die: none may outlive the test."""
    errors: list[Exception] = []
    for process in processes:
        try:
            process.kill()
        except Exception as error:  # keep killing the others
            errors.append(error)
    if errors:
        raise errors[0]


def replication_info(port: int) -> dict[str, Any]:
    return dict(client_for(port).info("replication"))


def has_online_replica(port: int) -> bool:
    """A master whose replica is connected and done with its initial sync."""
    info = replication_info(port)
    replica = info.get("slave0")
    return (
        info.get("role") == "master"
        and info.get("connected_slaves", 0) >= 1
        and isinstance(replica, dict)
        and replica.get("state") == "online"
    )


def is_synced_replica(port: int) -> bool:
    info = replication_info(port)
    return (
        info.get("role") == "slave"
        and info.get("master_link_status") == "up"
        and info.get("master_sync_in_progress") == 0
    )


# --- Redis Cluster ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterNodeInfo:
    """A node as the cluster describes it (CLUSTER NODES), with the pid of its process."""

    port: int
    pid: int
    node_id: str
    role: str  # "master" or "replica"
    master_id: str | None  # a replica's master; None for a master
    slots: tuple[tuple[int, int], ...]  # inclusive ranges
    failed: bool = False

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.port)

    def owns(self, slot: int) -> bool:
        return any(start <= slot <= end for start, end in self.slots)


def parse_slot_ranges(fields: list[str]) -> tuple[tuple[int, int], ...]:
    """``0-5460`` or ``42`` fields; the ``[slot->-id]`` ones of a migration are skipped."""
    ranges = (text.split("-") for text in fields if not text.startswith("["))
    return tuple(sorted((int(r[0]), int(r[-1])) for r in ranges))


def cluster_state(port: int) -> str:
    """``ok`` or ``fail``, from CLUSTER INFO (plain text: a plain client does not parse it)."""
    text = client_for(port).execute_command("CLUSTER", "INFO")
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return fields.get("cluster_state", "").strip()


@dataclass
class ClusterTopology:
    """Three masters with one replica each, made with ``redis-cli --cluster create``.

    ``cluster-require-full-coverage`` stays at its default (yes): while a master is down and
    not yet replaced, the whole cluster answers CLUSTERDOWN, as a production cluster would."""

    base_dir: Path
    node_timeout_ms: int = CLUSTER_NODE_TIMEOUT_MS
    processes: dict[int, Process] = field(default_factory=dict)

    # -- lifecycle

    def start(self) -> ClusterTopology:
        try:
            for port in free_cluster_ports(6):
                self.processes[port] = self.start_node(port)
            self.create_cluster()
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def start_node(self, port: int) -> Process:
        directory = self.base_dir / f"node-{port}"
        return start_redis(
            port,
            directory,
            *["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"],
            *["--cluster-node-timeout", str(self.node_timeout_ms)],
            *NO_PERSISTENCE,
        )

    def create_cluster(self) -> None:
        addresses = [f"{HOST}:{port}" for port in self.processes]
        subprocess.run(
            [redis_binary("redis-cli"), "--cluster", "create", *addresses]
            + ["--cluster-replicas", "1", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        kill_all(list(self.processes.values()))

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes.values()]

    # -- addresses

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        return [(HOST, port) for port in self.processes]

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.live_ports()[0]}/0"

    def live_ports(self) -> list[int]:
        return [port for port, process in self.processes.items() if process.alive()]

    # -- the cluster's own view

    def nodes(self, seen_from: int | None = None) -> list[ClusterNodeInfo]:
        """Every node the cluster knows, as ``seen_from`` (default: a live node) sees them."""
        port = seen_from if seen_from is not None else self.live_ports()[0]
        text = client_for(port).execute_command("CLUSTER", "NODES")
        return [self.describe(line) for line in text.splitlines() if line.strip()]

    def describe(self, line: str) -> ClusterNodeInfo:
        """One line of CLUSTER NODES: ``id host:port@bus flags master ping pong epoch link
        slot-ranges...``."""
        (
            node_id,
            address,
            flags_text,
            master_id,
            *_,
        ) = line.split(" ")
        port = int(address.split("@")[0].rsplit(":", 1)[1])
        flags = flags_text.split(",")
        replica = "slave" in flags
        return ClusterNodeInfo(
            port=port,
            pid=self.processes[port].pid,
            node_id=node_id,
            role="replica" if replica else "master",
            master_id=master_id if replica else None,
            slots=parse_slot_ranges(line.split(" ")[8:]),
            failed="fail" in flags or "fail?" in flags,
        )

    def masters(self) -> list[ClusterNodeInfo]:
        """The masters that serve slots (a failed old master keeps no slots)."""
        return sorted(
            (node for node in self.nodes() if node.role == "master" and node.slots),
            key=lambda node: node.slots,
        )

    def replica_of(self, master: ClusterNodeInfo) -> ClusterNodeInfo:
        replicas = [node for node in self.nodes() if node.master_id == master.node_id]
        if len(replicas) != 1:
            raise TopologyError(f"master {master.port} has {len(replicas)} replicas")
        return replicas[0]

    def master_for_slot(self, slot: int) -> ClusterNodeInfo:
        return next(master for master in self.masters() if master.owns(slot))

    @staticmethod
    def slot_of(key: str | bytes) -> int:
        return key_slot(key.encode() if isinstance(key, str) else key)

    def master_for_key(self, key: str | bytes) -> ClusterNodeInfo:
        return self.master_for_slot(self.slot_of(key))

    def client(self, node: ClusterNodeInfo) -> redis.Redis:
        """A plain client of one node (not cluster-aware: it does not follow MOVED)."""
        return client_for(node.port)

    # -- waiting for a settled cluster

    def slot_map(self, seen_from: int) -> tuple[tuple[tuple[int, int], str], ...]:
        """Which node id serves which slot ranges, as one node sees it."""
        masters = (n for n in self.nodes(seen_from) if n.role == "master" and n.slots)
        return tuple(sorted((slots, node.node_id) for node in masters for slots in node.slots))

    def is_settled(self, every_master_replicated: bool = True) -> bool:
        """Every live node says ok, they all agree on the slot map, all 16384 slots are
        served, and every live replica is linked to its master and done with its sync. With
        ``every_master_replicated``, each master must also have one (after a ``kill``, the
        dead node's shard has none: it stays dead)."""
        if not self.is_serving():
            return False
        (slot_map,) = {self.slot_map(port) for port in self.live_ports()}
        if sum(end - start + 1 for (start, end), _ in slot_map) != SLOT_COUNT:
            return False
        masters = self.masters()
        replicated = [master for master in masters if self.live_replicas(master)]
        if every_master_replicated and len(replicated) != len(masters):
            return False
        return all(self.replicas_synced(master) for master in replicated)

    def live_replicas(self, master: ClusterNodeInfo) -> list[ClusterNodeInfo]:
        nodes = self.nodes()
        replicas = (node for node in nodes if node.master_id == master.node_id)
        return [node for node in replicas if self.processes[node.port].alive()]

    def replicas_synced(self, master: ClusterNodeInfo) -> bool:
        if not has_online_replica(master.port):
            return False
        return all(is_synced_replica(replica.port) for replica in self.live_replicas(master))

    def is_serving(self) -> bool:
        """Every live node says ok and all agree on the slot map (replicas may be missing)."""
        ports = self.live_ports()
        states = {cluster_state(port) for port in ports}
        return states == {"ok"} and len({self.slot_map(port) for port in ports}) == 1

    def wait_until_ready(self, timeout: float = 30, every_master_replicated: bool = True) -> None:
        wait_until(
            lambda: self.is_settled(every_master_replicated),
            timeout,
            "the cluster to be ok, agreed and replicated",
        )

    # -- faults

    def kill(self, node: ClusterNodeInfo) -> None:
        """SIGKILL one node, as a crash."""
        self.processes[node.port].kill()

    def wait_for_promotion(self, old_master: ClusterNodeInfo, timeout: float = 20) -> Any:
        """Wait until a surviving node serves ``old_master``'s slots as a master and the live
        nodes say ok and agree; return the new master. The dead node stays dead, so its
        shard has no replica afterwards."""
        slot = old_master.slots[0][0]

        def promoted() -> ClusterNodeInfo | None:
            if not self.is_serving():
                return None
            new_master = self.master_for_slot(slot)
            if new_master.node_id == old_master.node_id:
                return None
            role = client_for(new_master.port).execute_command("ROLE")
            return new_master if role[0] == "master" else None

        return wait_until(promoted, timeout, f"a replica to replace master {old_master.port}")

    def manual_failover(self, master: ClusterNodeInfo, timeout: float = 20) -> ClusterNodeInfo:
        """CLUSTER FAILOVER on ``master``'s replica: a failover with no node lost, the old
        master alive and turned into the new one's replica (as for maintenance). Return the
        new master once the cluster is settled again, replicas included."""
        replica = self.replica_of(master)
        self.client(replica).execute_command("CLUSTER", "FAILOVER")
        promoted = self.wait_for_promotion(master, timeout)
        self.wait_until_ready(timeout)
        return promoted

    def flush(self, master: ClusterNodeInfo) -> None:
        """FLUSHALL on one master; return once its replica has applied it too."""
        client = self.client(master)
        client.flushall()
        client.execute_command("WAIT", 1, 5000)

    def restart_empty(self, master: ClusterNodeInfo, timeout: float = 30) -> None:
        """Kill one master and start it again at once, same port and nodes.conf, no data: a
        Redis without persistence that restarts. It comes back well within the node timeout,
        so no failover happens: it is still the master of its slots, with a new replication
        id, and its replica makes a full sync from it, so the replica is emptied too."""
        process = self.processes[master.port]
        process.kill()
        self.processes[master.port] = self.start_node(master.port)
        self.wait_until_ready(timeout, every_master_replicated=False)
        if self.master_for_slot(master.slots[0][0]).node_id != master.node_id:
            raise TopologyError(f"master {master.port} was replaced while it restarted")


# --- Sentinel ---------------------------------------------------------------------------------

SENTINEL_DOWN_AFTER_MS = 1000
SENTINEL_FAILOVER_TIMEOUT_MS = 3000


def sentinel_config(port: int, directory: Path, service: str, master_port: int) -> str:
    """A sentinel's config file: it rewrites it as it learns, so each has its own."""
    return "\n".join(
        [
            f"port {port}",
            f"bind {HOST}",
            f"dir {directory}",
            f"logfile {directory / 'sentinel.log'}",
            f"sentinel monitor {service} {HOST} {master_port} 2",
            f"sentinel down-after-milliseconds {service} {SENTINEL_DOWN_AFTER_MS}",
            f"sentinel failover-timeout {service} {SENTINEL_FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {service} 1",
            "",
        ]
    )


def start_sentinel(port: int, directory: Path, service: str, master_port: int) -> Process:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / f"sentinel-{port}.conf"
    config.write_text(sentinel_config(port, directory, service, master_port))
    popen = subprocess.Popen([redis_binary(), str(config), "--sentinel"], stdout=subprocess.DEVNULL)
    process = Process(port, directory, popen)
    wait_until_answering(process)
    return process


@dataclass
class SentinelTopology:
    """One master, one replica (``--replicaof``), three sentinels with a quorum of 2."""

    base_dir: Path
    service_name: str = "mymaster"
    servers: dict[int, Process] = field(default_factory=dict)
    sentinel_processes: dict[int, Process] = field(default_factory=dict)
    first_master_port: int = 0

    # -- lifecycle

    def start(self) -> SentinelTopology:
        try:
            master_port, replica_port = free_port(), free_port()
            self.first_master_port = master_port
            self.servers[master_port] = start_redis(
                master_port, self.base_dir / f"redis-{master_port}", *NO_PERSISTENCE
            )
            self.servers[replica_port] = start_redis(
                replica_port,
                self.base_dir / f"redis-{replica_port}",
                *["--replicaof", HOST, str(master_port)],
                *NO_PERSISTENCE,
            )
            for _ in range(3):
                port = free_port()
                directory = self.base_dir / f"sentinel-{port}"
                self.sentinel_processes[port] = start_sentinel(
                    port, directory, self.service_name, master_port
                )
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        kill_all([*self.sentinel_processes.values(), *self.servers.values()])

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in [*self.servers.values(), *self.sentinel_processes.values()]]

    # -- addresses

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        return [(HOST, port) for port in self.sentinel_processes]

    def server_client(self, address: tuple[str, int]) -> redis.Redis:
        """A plain client of the master or replica at ``address``."""
        return client_for(address[1])

    def sentinel_client(self, port: int) -> redis.Redis:
        return client_for(port)

    def master_address(self) -> tuple[str, int]:
        """The master as the sentinels see it; they must agree."""
        address = self.agreed_master_address()
        if address is None:
            raise TopologyError("the sentinels disagree on the master")
        return address

    def agreed_master_address(self) -> tuple[str, int] | None:
        """The master all sentinels name, or None while they disagree (during a failover)."""
        addresses = {self.master_address_seen_by(port) for port in self.sentinel_processes}
        return addresses.pop() if len(addresses) == 1 else None

    def master_address_seen_by(self, sentinel_port: int) -> tuple[str, int]:
        client = self.sentinel_client(sentinel_port)
        host, port = cast(
            tuple[str, int], client.sentinel_get_master_addr_by_name(self.service_name)
        )
        return (host, int(port))

    # -- waiting

    def sentinel_knows_everyone(self, port: int) -> bool:
        """This sentinel sees the master up, a replica linked to it, and the 2 others."""
        client = self.sentinel_client(port)
        # redis-py types these replies as unions with bool; decoded, they are dicts and lists.
        master = cast(dict[str, Any], client.sentinel_master(self.service_name))
        replicas = cast(list[dict[str, Any]], client.sentinel_slaves(self.service_name))
        sentinels = cast(list[dict[str, Any]], client.sentinel_sentinels(self.service_name))
        return (
            master.get("is_master") is True
            and not master.get("is_sdown")
            and not master.get("is_odown")
            and any(is_good_replica(replica) for replica in replicas)
            and len(sentinels) == len(self.sentinel_processes) - 1
        )

    def is_settled(self) -> bool:
        """All sentinels agree on a master that answers as one, with its replica synced, and
        each sentinel knows the replica and the other sentinels."""
        address = self.agreed_master_address()
        if address is None or not has_online_replica(address[1]):
            return False
        return all(self.sentinel_knows_everyone(s) for s in self.sentinel_processes)

    def wait_until_ready(self, timeout: float = 30) -> None:
        wait_until(self.is_settled, timeout, "the sentinels to know master, replica and peers")

    # -- faults

    def failover(self, timeout: float = 30) -> tuple[str, int]:
        """SENTINEL FAILOVER: the replica is promoted; return its address once every sentinel
        names it and it answers as a master (about 1 s).

        The old master, alive, goes on answering as a master for 10 to 15 s more: a sentinel
        reconfigures an instance that claims the wrong role only after it has said so for 8 s
        (4 hello periods), and reads a replica's INFO every 10 s. Call ``wait_until_ready()``
        for the old master to be the new one's synced replica again (before a second
        failover, which needs one)."""
        old = self.master_address()
        port = next(iter(self.sentinel_processes))
        self.sentinel_client(port).execute_command("SENTINEL FAILOVER", self.service_name)
        return self.wait_for_new_master(old, timeout)

    def kill_master(self) -> tuple[str, int]:
        """SIGKILL the current master; return its address."""
        address = self.master_address()
        self.servers[address[1]].kill()
        return address

    def wait_for_new_master(self, old: tuple[str, int], timeout: float = 30) -> tuple[str, int]:
        """Wait until every sentinel names a master other than ``old`` and it answers ROLE as
        a master; return its address. It has no replica yet (see ``failover``)."""

        def moved() -> tuple[str, int] | None:
            address = self.agreed_master_address()
            if address is None or address == old:
                return None
            if client_for(address[1]).execute_command("ROLE")[0] != "master":
                return None
            return address

        return wait_until(moved, timeout, f"the sentinels to replace the master at {old}")


def is_good_replica(replica: dict[str, Any]) -> bool:
    """A replica a sentinel could promote. Its ``master-link-status`` is not asked: a
    sentinel refreshes a replica's INFO only every 10 s, so after a failover it reports the
    old master's link as down for up to 10 s; the link itself is checked on the process."""
    return (
        replica.get("is_slave") is True
        and not replica.get("is_sdown")
        and not replica.get("is_disconnected")
        and is_synced_replica(int(replica["port"]))
    )
