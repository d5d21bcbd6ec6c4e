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
from typing import Any, Protocol, TypeVar

from django.db import DatabaseError, connection
from redis.exceptions import RedisError

from . import outbox
from .scripts import EXTEND_LOCK, FINISH_REBUILD, READ_STATE_SHA, RELEASE_LOCK

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


class MirroredStore(Protocol):
    """What a rebuild needs of the store whose Redis it fills (``RedisStore``): named here, not
    imported, so that the rebuild does not depend on the store that starts it."""

    database: Any
    guard: Any

    @property
    def warm_key(self) -> str: ...
    @property
    def rebuild_lock_key(self) -> str: ...
    def run(self, operation: Callable[[Any], T]) -> T: ...
    def client(self) -> Any: ...
    def reload_scripts(self) -> None: ...
    def write_device(
        self, client: Any, device_id: str, owner: str | None, expires_at: Any
    ) -> None: ...
    def write_token(self, client: Any, jti: str, expires_at: Any) -> None: ...
    def write_generation(self, client: Any, user_id: str, generation: int) -> None: ...


class Rebuilder:
    """Copy the database into one store's Redis and mark it warm; audit that it still is."""

    def __init__(self, store: MirroredStore) -> None:
        self.store = store
        self._rebuilding = threading.Lock()
        self._thread: threading.Thread | None = None

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    # -- the audit ----------------------------------------------------------------------
    def audit(self) -> None:
        """Drop the warm marker if this Redis is not the one it was set on (a restart from a
        snapshot, a failover) or if a revocation's copy failed in some process (an outbox row
        older than its commit can explain), then start a rebuild. The rows stay: only a
        rebuild that read the database after they committed may delete them."""
        store = self.store
        stale = outbox.stale(PENDING_GRACE)
        try:
            run_id, warm = store.run(lambda c: (c.info("server")["run_id"], c.get(store.warm_key)))
            if warm is None or not (stale or warm.decode() != run_id):
                return
            logger.warning("The Redis revocation mirror may be missing entries; rebuilding.")
            store.run(lambda c: c.delete(store.warm_key))
        except RedisUnavailable:
            return
        self.in_background()

    # -- rebuilding ---------------------------------------------------------------------
    def in_background(self) -> None:
        """Start one rebuild thread in this process, unless one is already running."""
        if self._rebuilding.locked():
            return
        self._thread = threading.Thread(
            target=self._in_thread, name="authtokens-rebuild", daemon=True
        )
        self._thread.start()

    def _in_thread(self) -> None:
        try:
            self.rebuild()
        except Exception:  # a failed rebuild leaves the mirror cold: safe, and said once
            logger.exception("Rebuilding the Redis revocation mirror failed.")
        finally:
            connection.close()  # the thread's own database connection

    def rebuild(self) -> int | None:
        """Copy the database into Redis and mark it warm; return how many entries, or None if
        another process holds the rebuild, or Redis or the database failed, or the lock was
        taken away meanwhile."""
        if not self._rebuilding.acquire(blocking=False):
            return None
        try:
            return self._rebuild()
        finally:
            self._rebuilding.release()

    def _rebuild(self) -> int | None:
        store, nonce, lock = self.store, secrets.token_hex(16), self.store.rebuild_lock_key
        lock_ms = int(REBUILD_LOCK.total_seconds() * 1000)
        try:
            # The read script must be known before the marker it trusts is set; loading it
            # drops any marker first, which only a forgetful (restarted) instance can hold.
            if not store.run(lambda c: c.script_exists(READ_STATE_SHA)[0]):
                store.reload_scripts()
            if not store.run(lambda c: c.set(lock, nonce, nx=True, px=lock_ms)):
                return None
            # Read before the copy: every row listed here committed before the copy's reads,
            # so the copy covers its revocation and may retire it once the mirror is warm.
            covered = outbox.listed()
            run_id = store.run(lambda c: c.info("server")["run_id"])
            count = store.run(lambda c: self._copy(c, store.database.mirror_contents(), nonce))
            done = store.run(
                lambda c: c.register_script(FINISH_REBUILD)(
                    keys=[lock, store.warm_key], args=[nonce, run_id]
                )
            )
        except (RedisUnavailable, DatabaseError, RebuildLockLost) as error:
            logger.error(
                "Rebuilding the Redis revocation mirror failed (%s).", type(error).__name__
            )
            self._release(lock, nonce)
            return None
        if not done:
            return None
        outbox.retire(covered)
        logger.info("Rebuilt the Redis revocation mirror with %d entries.", count)
        return count

    def _copy(self, client: Any, contents: Iterable[tuple[Any, ...]], nonce: str) -> int:
        store, pipe, count = self.store, client.pipeline(transaction=False), 0
        for entry in contents:
            kind = entry[0]
            if kind == "user":
                store.write_generation(pipe, entry[1], entry[2])
            elif kind == "device":
                store.write_device(pipe, entry[1], entry[2], entry[3])
            else:
                store.write_token(pipe, entry[1], entry[2])
            count += 1
            if count % BATCH == 0:
                self._flush(pipe, nonce)
        self._flush(pipe, nonce)
        return count

    def _flush(self, pipe: Any, nonce: str) -> None:
        """Send a batch and extend our lock; stop if the lock was taken away meanwhile."""
        lock_ms = int(REBUILD_LOCK.total_seconds() * 1000)
        pipe.register_script(EXTEND_LOCK)(
            keys=[self.store.rebuild_lock_key], args=[nonce, lock_ms], client=pipe
        )
        if not pipe.execute()[-1]:
            raise RebuildLockLost()

    def _release(self, lock: str, nonce: str) -> None:
        """Release our lock now, whatever the retry window says, or have the guard do it."""

        def attempt() -> None:
            self.store.client().register_script(RELEASE_LOCK)(keys=[lock], args=[nonce])

        try:
            attempt()
        except RedisError:
            self.store.guard.release(attempt, time.monotonic() + REBUILD_LOCK.total_seconds())
