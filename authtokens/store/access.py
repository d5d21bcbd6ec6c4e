"""How the Redis store reaches its nodes: the topology, each node's availability, its guard.

On one node all of this is about that node. On a cluster a node that fails sends only the
groups it serves to the database (its own retry window), and an invalidation is delivered by
the guard of the node that serves the group (``guard.py``), so one shard's outage or
failover leaves the others answering from Redis.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from redis.exceptions import (
    AskError,
    MovedError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
)

from ..conf import app_settings
from . import outbox
from .auditor import Auditor, audit
from .guard import MirrorGuard
from .layout import MirrorLayout
from .rebuild import RedisUnavailable
from .topology import Cluster, SingleNode, connect

logger = logging.getLogger("authtokens.store")
T = TypeVar("T")
WHOLE = ""  # the name under which maintenance (audit, rebuild) tracks Redis's availability
FOLLOW_PAUSE = 0.1  # seconds between two reloads of the topology by one process
REDIRECTS = (MovedError, AskError, ReadOnlyError)  # the node no longer serves the key


class RedisAccess(MirrorLayout):
    """Reaching Redis for ``RedisStore`` (a mixin): its ``__init__`` sets the attributes."""

    cache_alias: str | None
    auditor: Auditor
    _topology: SingleNode | Cluster | None
    _guards: dict[str, MirrorGuard]
    _retry_at: dict[str, float]
    _down: set[str]
    _armed: tuple[int, set[str]]
    remap_wanted: bool
    _following: Any  # a threading.Lock: one reload of the topology at a time
    _followed_at: float
    reader_epoch: int
    rebuilder: Any
    _readers: Any  # a threading.local
    _readers_lock: Any
    _reader_connections: list[Any]
    reroute: Callable[[list[int]], bool]  # mirroring.py: where a refused marker drop goes

    def topology(self) -> SingleNode | Cluster:
        # Kept: a changed setting replaces the store itself (store.clear_store_cache).
        if self._topology is None:
            self._topology = connect(self.cache_alias)
        return self._topology

    def client(self) -> Any:
        return self.topology().client

    @property
    def guard(self) -> MirrorGuard:
        """The guard of the one node (on a cluster, of the first group's node)."""
        return self.guard_for(self.node_name(0))

    def guard_for(self, node: str) -> MirrorGuard:
        """The guard that delivers invalidations to ``node``: one per node and process."""
        guard = self._guards.get(node)
        if guard is None:
            guard = self._guards.setdefault(
                node,
                MirrorGuard(
                    lambda: self.topology().pool_of(node),
                    lambda groups: [("DEL", *self.group_trust_keys(g)) for g in groups],
                    self.reroute,
                ),
            )
        return guard

    def node_name(self, group: int) -> str:
        """The node serving ``group`` now ("" on one node); raises a RedisClusterException
        when no node serves it (a failover under way)."""
        return self.topology().name_for_slot(self.slot_of(group)) if self.groups > 1 else ""

    def groups_by_node(self, groups: Iterable[int] | None = None) -> dict[str, list[int]]:
        """The node serving each of ``groups`` (all by default) now; a group nobody serves (a
        failover under way, whose promoted replica answers NOSCRIPT) is left out."""
        by_node: dict[str, list[int]] = {}
        for group in range(self.groups) if groups is None else groups:
            try:
                by_node.setdefault(self.node_name(group), []).append(group)
            except RedisClusterException:
                continue
        return by_node

    def groups_on(self, node: str) -> list[int]:
        """The groups ``node`` serves now."""
        return self.groups_by_node().get(node, [])

    def follow_topology(self, now: bool = False) -> None:
        """A node answered for data it no longer serves (MOVED, or READONLY from a demoted
        master): learn where it went. Reads do it at most every ``FOLLOW_PAUSE`` per process
        (many may see it at once); a revocation's write, ``now``, waits for it. A cluster
        reloads its slot map; with Sentinel every connection is opened again."""
        moment = time.monotonic()
        if not now and (
            moment < self._followed_at + FOLLOW_PAUSE or not self._following.acquire(blocking=False)
        ):
            return
        if now:
            self._following.acquire()
        try:
            self._followed_at = moment
            self.topology().refresh()
            if not self.topology().clustered:
                self.topology().forget_connections()
                self.reader_epoch += 1
        except (RedisError, RedisClusterException):
            self.remap_wanted = self.groups > 1  # the auditor tries again
        finally:
            self._following.release()

    def invalidate(self, groups: Iterable[int], on_current_master: bool = False) -> None:
        """Have each group's node drop its trust, through that node's guard; and, if
        ``on_current_master``, at once on a new connection too, which reaches the master
        Sentinel names now (the guard's standby may still be on a deposed one)."""
        groups = list(groups)
        if on_current_master:
            self.topology().forget_connections()
            self.reader_epoch += 1
            for group in groups:
                try:
                    self.topology().delete_now(self.node_name(group), self.group_trust_keys(group))
                except (RedisError, RedisClusterException, OSError):
                    pass  # the guard below delivers it, or the audit finds the outbox row
        for node, owed in self.groups_by_node(groups).items():
            self.guard_for(node).invalidate(owed)

    def groups_of(self, users: Iterable[str | None]) -> set[int]:
        """The groups of these users; every group for ``outbox.EVERYONE``."""
        users = set(users)
        if outbox.EVERYONE in users:
            return set(range(self.groups))
        return {self.group_of(user) for user in users}

    def _recover(self, client: Any) -> None:
        """First contact after an outage: a copy may have failed in any process meanwhile,
        while this one could not see the marker drop. Check the outbox before trusting."""
        groups = self.groups_of(outbox.pending_users())
        if groups:
            client.delete(*[key for group in groups for key in self.group_trust_keys(group)])

    def audit(self) -> None:
        """Check that the mirror may still be trusted (the auditor thread calls this), after
        following the topology: a cluster's new slot map, or a master Sentinel moved (every
        connection opened again, so that none goes on reading a deposed master)."""
        try:
            if self.remap_wanted:
                self.remap_wanted = False
                self.follow_topology(now=True)
            if self.topology().master_moved():
                logger.warning("Sentinel names a new Redis master; reconnecting to it.")
                self.topology().forget_connections()
                self.reader_epoch += 1
        except (RedisError, RedisClusterException):
            self.remap_wanted = self.groups > 1
        audit(self.rebuilder)

    # -- failure handling ---------------------------------------------------------------
    def run(self, operation: Callable[[Any], T], node: str = WHOLE) -> T:
        """Run ``operation`` on the client, or raise ``RedisUnavailable`` (and start the
        retry window of ``node``) if Redis fails or failed within ``REDIS_RETRY_INTERVAL``."""
        if self._retry_at.get(node, 0.0) > time.monotonic():
            raise RedisUnavailable()
        try:
            client = self.client()
            if node in self._down:
                self._recover(client)
            result = operation(client)
        except REDIRECTS as error:  # the node is up, but no longer serves this: not an outage
            self.remap_wanted = True
            raise RedisUnavailable() from error
        except (RedisError, RedisClusterException) as error:
            self._mark_down(error, node)
            raise RedisUnavailable() from error
        if node in self._down:
            self._down.discard(node)
            logger.warning("Redis is reachable again; revocation checks use it once more.")
        self._arm(node)
        return result

    def _arm(self, node: str) -> None:
        """Start this process's auditor, and keep a standby connection to each node reached
        (a forked child starts its own)."""
        if self._armed[0] != os.getpid():
            self._armed = (os.getpid(), set())
            self.auditor.start()
        if node not in self._armed[1] and (node != WHOLE or self.groups == 1):
            self._armed[1].add(node)
            self.guard_for(node).arm()

    def _mark_down(self, error: Exception, node: str) -> None:
        self._retry_at[node] = time.monotonic() + app_settings.REDIS_RETRY_INTERVAL.total_seconds()
        if self.groups > 1:
            self.remap_wanted = True  # a failover moves slots: learn where they went
        if node not in self._down:  # log the outage once, not once a request
            self._down.add(node)
            logger.error(
                "Redis is unreachable (%s); checking revocations in the database.",
                type(error).__name__,
            )
