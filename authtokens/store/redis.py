"""The Redis revocation store: one command per check, composed over the database store.

Redis mirrors what the database says about every token decode may still accept: each live
device and its owner, each revoked device, token and user generation. A ``warm`` marker read in
the same command tells a complete mirror from a cold one (flushed, restarted, failed over,
or dropped because a copy failed); when it is missing the database answers and the mirror is
rebuilt in the background. The protocol that keeps the marker honest is written down in
ARCHITECTURE.md ("The Redis mirror"); its invariant:

    A process trusts Redis only while every revocation committed before its read is either in
    Redis or has made the warm marker absent.

On a Redis Cluster the same holds per group of users (``layout.py``): each group has its own
marker, so a shard that loses its data is rebuilt alone while the others keep answering.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

from redis.exceptions import NoScriptError, RedisClusterException, ResponseError

from ..conf import app_settings
from .access import RedisAccess
from .auditor import Auditor
from .base import RevocationState, RevocationStore
from .database import DatabaseStore
from .guard import MirrorGuard
from .layout import group_tags, jti_bucket
from .mirroring import MirrorWrites
from .rebuild import PENDING_GRACE, Rebuilder, RebuildLockLost, RedisUnavailable
from .scripts import READ_STATE, READ_STATE_REPLICATED, READ_STATE_REPLICATED_SHA, READ_STATE_SHA
from .topology import Cluster, SingleNode, required_replicas
from .verdicts import VerdictCache

__all__ = ["PENDING_GRACE", "RebuildLockLost", "RedisStore", "RedisUnavailable"]

logger = logging.getLogger("authtokens.store")
T = TypeVar("T")
REDIRECTED = object()  # a cluster node answered for a slot it no longer serves


class RedisStore(MirrorWrites, RedisAccess, RevocationStore):
    """Mirror revocations in Redis; fall back to the database whenever Redis cannot answer."""

    mirrors = True

    def __init__(self, cache_alias: str | None = None) -> None:
        self.database = DatabaseStore()
        self.cache_alias = cache_alias
        config = app_settings.REDIS if cache_alias is None else None
        self.groups = app_settings.REDIS_GROUPS if config and "CLUSTER" in config else 1
        self.min_replicas = required_replicas(config)
        self._read_args: tuple[int, ...]
        self.read_script, self.read_sha, self._read_args = (
            (READ_STATE_REPLICATED, READ_STATE_REPLICATED_SHA, (self.min_replicas,))
            if self.min_replicas
            else (READ_STATE, READ_STATE_SHA, ())
        )
        self._unreplicated_said: dict[str, float] = {}
        self.reader_epoch = 0  # raised when every read connection must be opened again
        self._topology: SingleNode | Cluster | None = None
        self._readers = threading.local()  # each thread's connections for the read, by node
        self._readers_lock = threading.Lock()
        self._reader_connections: list[Any] = []  # all of them, to close with the store
        self._retry_at: dict[str, float] = {}  # by node: monotonic time before no new try
        self._down: set[str] = set()  # the nodes whose outage was logged
        self.remap_wanted = False  # a node answered for a slot it lost: learn the map again
        self._following, self._followed_at = threading.Lock(), float("-inf")
        self._armed: tuple[int, set[str]] = (0, set())  # the pid, and the nodes it armed
        self._guards: dict[str, MirrorGuard] = {}
        self.rebuilder = Rebuilder(self)
        self.verdicts = (
            VerdictCache(lambda: self.client().connection_pool)
            if app_settings.REDIS_VERDICT_CACHE and self.groups == 1 and not self.min_replicas
            else None  # it runs READ_STATE on one node only (check E017 says so)
        )
        self.auditor = Auditor(self.audit)

    def close(self) -> None:
        """Stop this instance's background work (settings changed, tests)."""
        for guard in list(self._guards.values()):
            guard.stop()
        self.auditor.stop()
        if self.verdicts is not None:
            self.verdicts.stop()
        self.rebuilder.join(timeout=10)
        with self._readers_lock:
            connections, self._reader_connections = self._reader_connections, []
        for connection in connections:
            connection.disconnect()
        if self._topology is not None:
            self._topology.close()

    # -- the hot path: one EVALSHA ------------------------------------------------------
    def get_state(self, claims: Mapping[str, Any]) -> RevocationState:
        prefix, jti, sub = app_settings.REDIS_KEY_PREFIX, claims["jti"], claims["sub"]
        exp = claims.get("exp")
        hour = "never" if exp is None else exp // 3600
        group = self.group_of(sub)
        tag = "" if self.groups == 1 else group_tags(self.groups)[group]
        keys = (  # layout.py's names, inlined: this runs every request
            f"{tag}{prefix}d:{claims['did']}",
            f"{tag}{prefix}u:{sub}",
            f"{tag}{prefix}warm:",
            f"{tag}{prefix}t:{hour}:{jti_bucket(jti, self.groups)}",
        )
        if self.verdicts is not None and (reply := self.verdicts.get((keys, jti))):
            return RevocationState(bool(reply[3]), bool(reply[1]), reply[2])  # no round trip
        owner = b"+" + sub.encode()
        try:
            node = self.node_name(group)
            reply = self.run(lambda c: self._read(node, keys, jti, owner), node)
        except (RedisUnavailable, RedisClusterException):
            return self.database.get_state(claims)
        if reply is REDIRECTED:
            self.follow_topology()  # the next read goes where the data is now
            return self.database.get_state(claims)
        if reply is not None and reply[0] == -1:  # fewer replicas connected than REDIS_MIN_REPLICAS
            self._unreplicated(node)
            return self.database.get_state(claims)
        if reply is None or not reply[0]:  # a forgetful instance, or a cold mirror
            if reply is None:
                self.reload_scripts(group)
            self.rebuild_in_background()
            return self.database.get_state(claims)
        # Absent (an unknown device), revoked, or another user's: as the database says.
        return RevocationState(bool(reply[3]), bool(reply[1]), reply[2])

    def _read(self, node: str, keys: tuple[str, ...], jti: str, owner: bytes) -> Any:
        if self.verdicts is not None:
            try:
                reply = self.verdicts.read((keys, jti), owner)
            except NoScriptError:
                return None
            if reply is not None:
                return reply
        connection = self._reader(node)
        if connection._sock is None:
            # Connect here, not inside send_packed_command: redis-py 8 reconnects there through
            # connect_check_health, which a Sentinel-managed connection does not override, so
            # it would reach the last (or default) address instead of the master named now.
            connection.connect()
        command = connection.pack_command(
            "EVALSHA", self.read_sha, 4, *keys, jti, owner, *self._read_args
        )
        try:
            connection.send_packed_command(command, check_health=False)
            return connection.read_response()  # an error disconnects it: no reply left behind
        except NoScriptError:
            return None  # never EVAL instead: see scripts.READ_STATE_SHA
        except ResponseError:  # MOVED, CLUSTERDOWN...: never followed within the request
            return REDIRECTED

    def _reader(self, node: str) -> Any:
        """This thread's own connection to ``node`` for the read: half the cost of
        ``client.evalsha`` (no pool lock, no retry wrapper), measured. It connects again by
        itself after an error; a forked child opens its own."""
        local = self._readers
        if getattr(local, "pid", None) != os.getpid() or local.epoch != self.reader_epoch:
            local.connections, local.pid, local.epoch = {}, os.getpid(), self.reader_epoch
        connection = local.connections.get(node)
        if connection is None:
            # Built from the pool's settings, not taken from it: pool.make_connection() counts
            # against max_connections and is never given back, so stores replaced over time
            # (settings changes, tests) would exhaust the pool.
            pool = self.topology().pool_of(node)
            connection = local.connections[node] = pool.connection_class(**pool.connection_kwargs)
            with self._readers_lock:
                self._reader_connections.append(connection)
        return connection

    def reload_scripts(self, group: int = 0) -> None:
        """Redis does not know the read script: the node serving ``group`` restarted (perhaps
        from a snapshot that holds warm markers), failed over, or its scripts were flushed, so
        it is not the instance the mirror was built on. Drop the markers of every group it
        serves, then load the script: in this order, a process that finds the script finds
        the markers gone."""
        logger.warning("Redis forgot its scripts (a restart or failover); rebuilding the mirror.")
        try:
            node = self.node_name(group)
            keys = [k for g in self.groups_on(node) for k in self.group_trust_keys(g)]
            self.run(lambda c: c.delete(*keys))
            self.run(lambda c: self.topology().on_node(node).script_load(self.read_script))
        except (RedisUnavailable, RedisClusterException):
            pass  # the database answers this request; the next read tries again

    # -- beside the requests: audit and rebuild (rebuild.py) ----------------------------
    def rebuild_in_background(self) -> None:
        self.rebuilder.in_background()

    def rebuild(self) -> int | None:
        """Copy the database into Redis and mark it warm (see ``Rebuilder.rebuild``)."""
        return self.rebuilder.rebuild()
