"""The Redis revocation store: one command per check, composed over the database store.

Redis mirrors what the database says about every token decode may still accept: each live
device and its owner, each revoked device, token and user generation. A ``warm`` marker read in
the same command tells a complete mirror from a cold one (flushed, restarted, failed over,
or dropped because a copy failed); when it is missing the database answers and the mirror is
rebuilt in the background. The protocol that keeps the marker honest is written down in
ARCHITECTURE.md ("The Redis mirror"); its invariant:

    A process trusts Redis only while every revocation committed before its read is either in
    Redis or has made the warm marker absent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from django_redis import get_redis_connection
from redis.exceptions import NoScriptError, RedisError

from ..conf import app_settings
from . import outbox
from .auditor import Auditor
from .base import RevocationState, RevocationStore
from .database import DatabaseStore
from .guard import MirrorGuard
from .layout import MirrorLayout
from .rebuild import PENDING_GRACE, Rebuilder, RebuildLockLost, RedisUnavailable
from .scripts import READ_STATE, READ_STATE_SHA
from .verdicts import VerdictCache

__all__ = ["PENDING_GRACE", "RebuildLockLost", "RedisStore", "RedisUnavailable"]

logger = logging.getLogger("authtokens.store")
T = TypeVar("T")


class RedisStore(MirrorLayout, RevocationStore):
    """Mirror revocations in Redis; fall back to the database whenever Redis cannot answer."""

    mirrors = True

    def __init__(self, cache_alias: str | None = None) -> None:
        self.database = DatabaseStore()
        self.cache_alias = cache_alias or app_settings.REDIS_CACHE_ALIAS
        self._client: Any = None
        self._readers = threading.local()  # each thread's connection for the read
        self._readers_lock = threading.Lock()
        self._reader_connections: list[Any] = []  # all of them, to close with the store
        self._retry_at = 0.0  # monotonic time before which Redis is not tried
        self._down = False
        self._armed = 0  # the pid whose guard and auditor run (a forked child starts its own)
        self.rebuilder = Rebuilder(self)
        self.verdicts = (
            VerdictCache(lambda: self.client().connection_pool)
            if app_settings.REDIS_VERDICT_CACHE
            else None
        )
        self.auditor = Auditor(self.audit)
        self.guard = MirrorGuard(
            lambda: self.client().connection_pool,
            lambda: self.trust_keys,
        )

    def client(self) -> Any:
        # Kept: a changed CACHES setting replaces the store itself (store.clear_store_cache).
        if self._client is None:
            self._client = get_redis_connection(self.cache_alias)
        return self._client

    def close(self) -> None:
        """Stop this instance's background work (settings changed, tests)."""
        self.guard.stop()
        self.auditor.stop()
        if self.verdicts is not None:
            self.verdicts.stop()
        self.rebuilder.join(timeout=10)
        with self._readers_lock:
            connections, self._reader_connections = self._reader_connections, []
        for connection in connections:
            connection.disconnect()

    # -- the hot path: one EVALSHA ------------------------------------------------------
    def get_state(self, claims: Mapping[str, Any]) -> RevocationState:
        prefix, jti = app_settings.REDIS_KEY_PREFIX, claims["jti"]
        exp = claims.get("exp")
        hour = "never" if exp is None else exp // 3600
        keys = (
            f"{prefix}d:{claims['did']}",
            f"{prefix}u:{claims['sub']}",
            f"{prefix}warm:",
            f"{prefix}t:{hour}:{jti[:2]}",  # token_bucket, inlined: this runs every request
        )
        if self.verdicts is not None and (reply := self.verdicts.get((keys, jti))):
            return RevocationState(bool(reply[3]), bool(reply[1]), reply[2])  # no round trip
        owner = b"+" + claims["sub"].encode()
        try:
            reply = self.run(lambda c: self._read(c, keys, jti, owner))
        except RedisUnavailable:
            return self.database.get_state(claims)
        if reply is None or not reply[0]:  # a forgetful instance, or a cold mirror
            if reply is None:
                self.reload_scripts()
            self.rebuild_in_background()
            return self.database.get_state(claims)
        # Absent (an unknown device), revoked, or another user's: as the database says.
        return RevocationState(bool(reply[3]), bool(reply[1]), reply[2])

    def _read(self, client: Any, keys: tuple[str, ...], jti: str, owner: bytes) -> Any:
        if self.verdicts is not None:
            try:
                reply = self.verdicts.read((keys, jti), owner)
            except NoScriptError:
                return None
            if reply is not None:
                return reply
        connection = self._reader(client)
        command = connection.pack_command("EVALSHA", READ_STATE_SHA, 4, *keys, jti, owner)
        try:
            connection.send_packed_command(command, check_health=False)
            return connection.read_response()  # an error disconnects it: no reply left behind
        except NoScriptError:
            return None  # never EVAL instead: see scripts.READ_STATE_SHA

    def _reader(self, client: Any) -> Any:
        """This thread's own connection for the read: half the cost of ``client.evalsha``
        (no pool lock, no retry wrapper), measured. It connects again by itself after an
        error; a forked child opens its own."""
        local = self._readers
        if getattr(local, "pid", None) != os.getpid():
            # Built from the pool's settings, not taken from it: pool.make_connection() counts
            # against max_connections and is never given back, so stores replaced over time
            # (settings changes, tests) would exhaust the pool.
            pool = client.connection_pool
            local.connection = pool.connection_class(**pool.connection_kwargs)
            local.pid = os.getpid()
            with self._readers_lock:
                self._reader_connections.append(local.connection)
        return local.connection

    def reload_scripts(self) -> None:
        """Redis does not know the read script: it restarted (perhaps from a snapshot that
        holds the warm marker), failed over, or its scripts were flushed, so it is not the
        instance the mirror was built on. Drop the marker, then load the script: in this
        order, a process that finds the script finds the marker gone."""
        logger.warning("Redis forgot its scripts (a restart or failover); rebuilding the mirror.")
        try:
            self.run(
                lambda c: (
                    c.pipeline(transaction=False)
                    .delete(*self.trust_keys)
                    .script_load(READ_STATE)
                    .execute()
                )
            )
        except RedisUnavailable:
            pass  # the database answers this request; the next read tries again

    # -- mirroring ----------------------------------------------------------------------
    def token_revoked(self, jti: str, expires_at: datetime | None) -> bool:
        return self._mirror(lambda c: self.write_token(c, jti, expires_at))

    def device_revoked(self, device_id: str, expires_at: datetime | None) -> bool:
        return self._mirror(lambda c: self.write_device(c, device_id, None, expires_at))

    def device_issued(self, device_id: str, user_id: str, expires_at: datetime | None) -> bool:
        return self._mirror(lambda c: self.write_device(c, device_id, user_id, expires_at))

    def user_revoked(self, user_id: str, generation: int) -> bool:
        return self._mirror(lambda c: self.write_generation(c, user_id, generation))

    def _mirror(self, write: Callable[[Any], None]) -> bool:
        try:
            self.run(write)
            return True
        except RedisUnavailable:
            # The database holds the write (and, for a revocation, its outbox row). Until
            # Redis has dropped its warm marker, no process may trust it: the guard keeps
            # trying in the background, so this request does not wait a timeout for it.
            self.guard.invalidate()
            return False

    # -- beside the requests: audit and rebuild (rebuild.py) ----------------------------
    def audit(self) -> None:
        """Check that the mirror may still be trusted (the auditor thread calls this)."""
        self.rebuilder.audit()

    def rebuild_in_background(self) -> None:
        self.rebuilder.in_background()

    def rebuild(self) -> int | None:
        """Copy the database into Redis and mark it warm (see ``Rebuilder.rebuild``)."""
        return self.rebuilder.rebuild()

    def _recover(self, client: Any) -> None:
        """First contact after an outage: a copy may have failed in any process meanwhile,
        while this one could not see the marker drop. Check the outbox before trusting."""
        if outbox.anything_pending():
            client.delete(*self.trust_keys)

    # -- failure handling ---------------------------------------------------------------
    def run(self, operation: Callable[[Any], T]) -> T:
        """Run ``operation`` on the client, or raise ``RedisUnavailable`` (and start the
        retry window) if Redis fails or failed within ``REDIS_RETRY_INTERVAL``."""
        if self._retry_at > time.monotonic():
            raise RedisUnavailable()
        try:
            client = self.client()
            if self._down:
                self._recover(client)
            result = operation(client)
        except RedisError as error:
            self._mark_down(error)
            raise RedisUnavailable() from error
        if self._down:
            self._down = False
            logger.warning("Redis is reachable again; revocation checks use it once more.")
        if self._armed != os.getpid():
            self._armed = os.getpid()
            self.guard.arm()
            self.auditor.start()
        return result

    def _mark_down(self, error: Exception) -> None:
        self._retry_at = time.monotonic() + app_settings.REDIS_RETRY_INTERVAL.total_seconds()
        if not self._down:  # log the outage once, not once a request
            self._down = True
            logger.error(
                "Redis is unreachable (%s); checking revocations in the database.",
                type(error).__name__,
            )
