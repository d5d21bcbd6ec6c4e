"""Rebuilding the Redis mirror from the database, and the audit that decides when it must be.

Both run beside the requests, never inside one: the rebuild in a thread a cold read starts,
the audit in each process's auditor thread (``auditor.py``). The protocol they keep is in
ARCHITECTURE.md ("The Redis mirror").
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

from django.db import DatabaseError, connection
from redis.exceptions import RedisClusterException, RedisError

from . import outbox
from .mirrored import MirroredStore
from .scripts import EXTEND_LOCK, FINISH_REBUILD, RELEASE_LOCK

logger = logging.getLogger("authtokens.store")

# A rebuild holds its lock this long past its last sign of life (each batch extends it).
REBUILD_LOCK = timedelta(seconds=30)
BATCH = 1000
# A pending write younger than this may simply not have reached its on_commit yet.
PENDING_GRACE = timedelta(seconds=2)


class RedisUnavailable(Exception):
    """Redis failed, or failed recently enough that we are not asking it yet."""


class RebuildLockLost(Exception):
    """Our rebuild lock was taken away (a flush, an invalidation): stop copying."""


T = TypeVar("T")


class Rebuilder:
    """Copy the database into one store's Redis and mark it warm; audit that it still is.

    Both work per group of users (one group on a single node): a group's warm marker holds
    the ``run_id`` of the node it was set on, and a group is rebuilt under a lock of its own.
    """

    def __init__(self, store: MirroredStore) -> None:
        self.store = store
        self._rebuilding = threading.Lock()
        self._thread: threading.Thread | None = None

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    # -- rebuilding ---------------------------------------------------------------------
    def in_background(self) -> None:
        """Start one rebuild of the cold groups in this process, unless one is running."""
        if self._rebuilding.locked():
            return
        self._thread = threading.Thread(
            target=self._in_thread, name="authtokens-rebuild", daemon=True
        )
        self._thread.start()

    def _in_thread(self) -> None:
        try:
            self.rebuild(cold_only=True)
        except Exception:  # a failed rebuild leaves the mirror cold: safe, and said once
            logger.exception("Rebuilding the Redis revocation mirror failed.")
        finally:
            connection.close()  # the thread's own database connection

    def rebuild(self, cold_only: bool = False) -> int | None:
        """Copy the database into Redis and mark it warm (only the groups without a warm
        marker if ``cold_only``); return how many entries, or None if another process holds
        the rebuild, or Redis or the database failed, or every lock was taken away meanwhile."""
        if not self._rebuilding.acquire(blocking=False):
            return None
        try:
            return self._rebuild(cold_only)
        finally:
            self._rebuilding.release()

    def _rebuild(self, cold_only: bool) -> int | None:
        store, nonce = self.store, secrets.token_hex(16)
        held: list[int] = []
        try:
            held, run_ids = self._claim(cold_only, nonce)
            if not held:
                return None
            # Read before the copy: every row listed here committed before the copy's reads,
            # so the copy covers its revocation and may retire it once the mirror is warm.
            covered = outbox.listed()
            contents = store.database.mirror_contents()
            count = store.run(lambda c: self._copy(c, contents, nonce, held))
            done = set(store.run(lambda c: self._finish(c, held, nonce, run_ids)))
        except (RedisUnavailable, RedisClusterException, DatabaseError, RebuildLockLost) as error:
            logger.error(
                "Rebuilding the Redis revocation mirror failed (%s).", type(error).__name__
            )
            self._release(held, nonce)
            return None
        if not done:
            return None
        outbox.retire(pk for pk, user in covered if store.groups_of([user]) <= done)
        logger.info("Rebuilt the Redis revocation mirror with %d entries.", count)
        return count

    def _claim(self, cold_only: bool, nonce: str) -> tuple[list[int], dict[str, str]]:
        """On each node that answers (a dead shard does not hold up the others): the groups
        whose rebuild lock we took (the cold ones only, if ``cold_only``), and the node's
        run_id, read before the copy."""
        store = self.store
        held: list[int] = []
        run_ids: dict[str, str] = {}
        for node, groups in store.groups_by_node().items():
            try:
                taken, run_ids[node] = store.run(
                    self._claimer(node, groups, cold_only, nonce), node
                )
            except RedisUnavailable:
                continue
            held += taken
        return held, run_ids

    def _claimer(
        self, node: str, groups: list[int], cold_only: bool, nonce: str
    ) -> Callable[[Any], tuple[list[int], str]]:
        """Load the read script first if the node lacks it (a warm marker is set only beside a
        script loaded after it: loading it drops the node's markers first, which only a
        forgetful, restarted instance can hold), then lock the groups."""
        lock_ms = int(REBUILD_LOCK.total_seconds() * 1000)

        def claim(_: Any) -> tuple[list[int], str]:
            client = self.store.topology().on_node(node)
            if not client.script_exists(self.store.read_sha)[0]:
                self.store.reload_scripts(groups[0])
            wanted = groups
            if cold_only:
                values = self.values(client, groups, 0)
                wanted = [g for g, value in zip(groups, values, strict=True) if value is None]
            pipe = client.pipeline(transaction=False)
            for group in wanted:
                pipe.set(self.store.group_trust_keys(group)[1], nonce, nx=True, px=lock_ms)
            taken = [g for g, ok in zip(wanted, pipe.execute(), strict=True) if ok]
            return taken, client.info("server")["run_id"]

        return claim

    def values(self, client: Any, groups: list[int], which: int) -> list[Any]:
        """The warm markers (``which`` 0) or locks (1) of ``groups``, all on ``client``'s node:
        one GET each in a pipeline (a multi-key command across slots is refused)."""
        pipe = client.pipeline(transaction=False)
        for group in groups:
            pipe.get(self.store.group_trust_keys(group)[which])
        return list(pipe.execute())

    def _copy(
        self, client: Any, contents: Iterable[tuple[Any, ...]], nonce: str, held: list[int]
    ) -> int:
        """Write the held groups' entries, pipelined to each group's node (a cluster's own
        pipeline cannot run scripts)."""
        store, count, wanted = self.store, 0, set(held)
        pipes: dict[str, Any] = {}
        for entry in contents:
            kind, user = entry[0], entry[1] if entry[0] == "user" else entry[-1]
            if not user and store.groups > 1:
                continue  # a tombstone from before 0.2: its group is unknown (see CHANGELOG)
            group = store.group_of(user)
            if group not in wanted:
                continue
            pipe = self._pipe(pipes, group)
            if kind == "user":
                store.write_generation(pipe, entry[1], entry[2])
            elif kind == "device":
                store.write_device(pipe, entry[1], entry[2], entry[3], user)
            else:
                store.write_token(pipe, entry[1], entry[2], user)
            count += 1
            if count % BATCH == 0:
                self._flush(pipes, nonce, held)
        self._flush(pipes, nonce, held)
        return count

    def _pipe(self, pipes: dict[str, Any], group: int) -> Any:
        node = self.store.node_name(group)
        if node not in pipes:
            pipes[node] = self.store.topology().on_node(node).pipeline(transaction=False)
        return pipes[node]

    def _flush(self, pipes: dict[str, Any], nonce: str, held: list[int]) -> None:
        """Send a batch and extend our locks; forget the groups whose lock was taken away
        meanwhile, and stop if none is left."""
        lock_ms = int(REBUILD_LOCK.total_seconds() * 1000)
        extended: dict[str, list[int]] = {}
        for group in held:
            lock = self.store.group_trust_keys(group)[1]
            node = self.store.node_name(group)
            self.store.run_script(self._pipe(pipes, group), EXTEND_LOCK, [lock], [nonce, lock_ms])
            extended.setdefault(node, []).append(group)
        alive: set[int] = set()
        for node, pipe in pipes.items():
            replies, groups = pipe.execute(), extended.get(node, [])
            tail = replies[len(replies) - len(groups) :] if groups else []
            alive.update(group for group, ok in zip(groups, tail, strict=True) if ok)
        held[:] = [group for group in held if group in alive]
        if not held:
            raise RebuildLockLost()

    def _finish(
        self, client: Any, held: list[int], nonce: str, run_ids: dict[str, str]
    ) -> list[int]:
        """Mark each group warm with its node's run_id, if our lock on it survived."""
        done = []
        for group in held:
            warm, lock = self.store.group_trust_keys(group)
            run_id = run_ids.get(self.store.node_name(group))
            if run_id is None:
                continue  # its slot moved during the copy: the lock's TTL frees it
            if self.store.run_script(client, FINISH_REBUILD, [lock, warm], [nonce, run_id]):
                done.append(group)
        return done

    def _release(self, held: list[int], nonce: str) -> None:
        """Release our locks now, whatever the retry window says, or have a guard do it."""
        for group in held:
            lock = self.store.group_trust_keys(group)[1]

            def attempt(lock: str = lock) -> None:
                self.store.run_script(self.store.client(), RELEASE_LOCK, [lock], [nonce])

            try:
                attempt()
            except (RedisError, RedisClusterException):
                try:
                    guard = self.store.guard_for(self.store.node_name(group))
                except RedisClusterException:
                    continue  # nobody serves the group: the lock's TTL ends it
                guard.release(attempt, time.monotonic() + REBUILD_LOCK.total_seconds())
