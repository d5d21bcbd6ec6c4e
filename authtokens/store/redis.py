"""The Redis revocation store: one MGET per check, composed over the database store.

Redis mirrors every live revocation, so a missing key means "not revoked". A ``warm`` marker
read in the same MGET tells a cold Redis (flushed, restarted, failed over) from an absent key:
when it is missing the database answers and the mirror is rebuilt in the background (G2).
When Redis fails, the database answers too, and Redis is left alone for
``REDIS_RETRY_INTERVAL`` (G3). Every ``REDIS_AUDIT_INTERVAL``, each process also checks that
the mirror can still be trusted: that Redis is the instance the marker was written on (not a
restart from a snapshot or a lagging replica), and that no revocation's copy failed in any
process (the ``PendingMirrorWrite`` outbox). If not, it drops the marker.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.db import DatabaseError, connection
from django.utils import timezone
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from ..conf import app_settings
from ..models import PendingMirrorWrite
from .base import RevocationState, RevocationStore
from .database import DatabaseStore

logger = logging.getLogger("authtokens.store")
T = TypeVar("T")

REBUILD_LOCK_SECONDS = 300
BATCH = 1000
# A pending write younger than this may simply not have reached its on_commit yet.
PENDING_GRACE = timedelta(seconds=2)

# Generations only move forward, whatever order two mirror writes or a rebuild land in.
SET_MAX = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""
# Mark the mirror warm only if our rebuild lock survived: a flush mid-rebuild drops the lock.
FINISH_REBUILD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisUnavailable(Exception):
    """Redis failed, or failed recently enough that we are not asking it yet."""


class RedisStore(RevocationStore):
    """Mirror revocations in Redis; fall back to the database whenever Redis cannot answer."""

    mirrors = True

    def __init__(self) -> None:
        self.database = DatabaseStore()
        self._retry_at = 0.0  # monotonic time before which Redis is not tried
        self._down = False
        self._stale = False  # this process failed to copy a revocation
        self._audit_at = time.monotonic() + app_settings.REDIS_AUDIT_INTERVAL.total_seconds()
        self._rebuilding = threading.Lock()

    def key(self, kind: str, ident: str = "") -> str:
        return f"{app_settings.REDIS_KEY_PREFIX}{kind}:{ident}"

    @property
    def warm_key(self) -> str:
        return self.key("warm")

    # -- the hot path -------------------------------------------------------------------
    def get_state(self, claims: Mapping[str, Any]) -> RevocationState:
        keys = [self.key("d", claims["did"]), self.key("u", claims["sub"]), self.warm_key]
        bucket = self.token_bucket(claims["jti"], claims.get("exp"))
        if time.monotonic() >= self._audit_at:
            self.audit()

        def read(client: Any) -> list[Any]:  # two commands, one round trip
            return (
                client.pipeline(transaction=False)
                .mget(keys)
                .hexists(bucket, claims["jti"])
                .execute()
            )

        try:
            (device, generation, warm), token_revoked = self._run(read)
        except RedisUnavailable:
            return self.database.get_state(claims)
        if warm is None:
            self.rebuild_in_background()
            return self.database.get_state(claims)
        return RevocationState(
            token_revoked=bool(token_revoked),
            device_revoked=device is not None,
            user_generation=int(generation or 0),
        )

    def token_bucket(self, jti: str, exp: int | None) -> str:
        """Revoked jtis live as fields of small hashes, one per hour of expiry and two-letter
        prefix: about 35 bytes each instead of 133 as keys of their own (see Benchmarks)."""
        hour = "never" if exp is None else str(exp // 3600)
        return self.key("t", f"{hour}:{jti[:2]}")

    # -- mirroring ----------------------------------------------------------------------
    def token_revoked(self, jti: str, expires_at: datetime | None) -> bool:
        return self._mirror(lambda c: self._write(c, "t", jti, expires_at))

    def device_revoked(self, device_id: str, expires_at: datetime | None) -> bool:
        return self._mirror(lambda c: self._write(c, "d", device_id, expires_at))

    def user_revoked(self, user_id: str, generation: int) -> bool:
        return self._mirror(lambda c: self._write_generation(c, user_id, generation))

    def _mirror(self, write: Callable[[Any], None]) -> bool:
        try:
            self._run(write)
            return True
        except RedisUnavailable:
            # The database holds the revocation and its outbox row. Stop every process from
            # trusting a mirror that lacks it: now if Redis answers at all, else as soon as
            # this process reaches it again, else at the next audit of any process.
            self._stale = True
            self._invalidate()
            return False

    def _write(self, client: Any, kind: str, ident: str, expires_at: datetime | None) -> None:
        if kind == "t":
            self._write_token(client, ident, expires_at)
            return
        if expires_at is None:
            client.set(self.key(kind, ident), "1")
            return
        milliseconds = self._milliseconds_until(expires_at)
        if milliseconds > 0:
            client.set(self.key(kind, ident), "1", px=milliseconds)

    def _write_token(self, client: Any, jti: str, expires_at: datetime | None) -> None:
        if expires_at is None:
            client.hset(self.token_bucket(jti, None), jti, "1")
            return
        exp = int(expires_at.timestamp())
        bucket = self.token_bucket(jti, exp)
        # The hash lives until the end of its hour: past every exp it holds.
        milliseconds = self._milliseconds_until(
            datetime.fromtimestamp((exp // 3600 + 1) * 3600, tz=UTC)
        )
        if self._milliseconds_until(expires_at) > 0:
            client.hset(bucket, jti, "1")
            client.pexpire(bucket, milliseconds)

    @staticmethod
    def _milliseconds_until(moment: datetime) -> int:
        # Keep entries through the leeway too, or a token comes back during it.
        remaining = moment + app_settings.LEEWAY - timezone.now()
        return int(remaining.total_seconds() * 1000)

    def _write_generation(self, client: Any, user_id: str, generation: int) -> None:
        client.register_script(SET_MAX)(keys=[self.key("u", user_id)], args=[generation])

    # -- trusting the mirror ------------------------------------------------------------
    def audit(self) -> None:
        """Drop the warm marker if this Redis is not the one it was set on (a restart from a
        snapshot, a failover) or if any process failed to copy a revocation."""
        self._audit_at = time.monotonic() + app_settings.REDIS_AUDIT_INTERVAL.total_seconds()
        try:
            cutoff = timezone.now() - PENDING_GRACE
            pending = list(
                PendingMirrorWrite.objects.filter(created_at__lt=cutoff).values_list(
                    "pk", flat=True
                )[:1000]
            )
        except DatabaseError:
            pending = []
        try:
            run_id, warm = self._run(lambda c: (c.info("server")["run_id"], c.get(self.warm_key)))
            if warm is not None and (pending or warm.decode() != run_id):
                logger.warning("The Redis revocation mirror may be missing entries; rebuilding.")
                self._run(lambda c: c.delete(self.warm_key))
        except RedisUnavailable:
            return
        if pending:  # the rebuild that follows copies them from the database
            PendingMirrorWrite.objects.filter(pk__in=pending).delete()

    def _invalidate(self) -> None:
        try:  # straight away, whatever the retry interval says: one try
            get_redis_connection(app_settings.REDIS_CACHE_ALIAS).delete(self.warm_key)
        except RedisError:
            pass

    # -- rebuilding ---------------------------------------------------------------------
    def rebuild_in_background(self) -> None:
        """Start one rebuild thread in this process, unless one is already running."""
        if self._rebuilding.locked():
            return
        threading.Thread(
            target=self._rebuild_thread, name="authtokens-rebuild", daemon=True
        ).start()

    def _rebuild_thread(self) -> None:
        try:
            self.rebuild()
        finally:
            connection.close()  # the thread's own database connection

    def rebuild(self) -> int | None:
        """Copy every live revocation from the database; return how many, or None if another
        process holds the rebuild, or Redis or the database failed."""
        if not self._rebuilding.acquire(blocking=False):
            return None
        try:
            return self._rebuild()
        finally:
            self._rebuilding.release()

    def _rebuild(self) -> int | None:
        nonce, lock = secrets.token_hex(16), self.key("rebuild")
        try:
            if not self._run(lambda c: c.set(lock, nonce, nx=True, ex=REBUILD_LOCK_SECONDS)):
                return None
            run_id = self._run(lambda c: c.info("server")["run_id"])
            count = self._run(self._copy_live_revocations)
            done = self._run(
                lambda c: c.register_script(FINISH_REBUILD)(
                    keys=[lock, self.warm_key], args=[nonce, run_id]
                )
            )
        except (RedisUnavailable, DatabaseError) as error:
            logger.error(
                "Rebuilding the Redis revocation mirror failed (%s).", type(error).__name__
            )
            self._release(lock, nonce)
            return None
        if done:
            logger.info("Rebuilt the Redis revocation mirror with %d entries.", count)
        return count if done else None

    def _release(self, lock: str, nonce: str) -> None:
        try:
            self._run(lambda c: c.register_script(RELEASE_LOCK)(keys=[lock], args=[nonce]))
        except RedisUnavailable:
            pass

    def _copy_live_revocations(self, client: Any) -> int:
        pipe = client.pipeline(transaction=False)
        count = 0
        for kind, ident, value in self.database.live_revocations():
            if kind == "user":
                self._write_generation(pipe, ident, value)  # type: ignore[arg-type]
            else:
                self._write(pipe, "t" if kind == "token" else "d", ident, value)  # type: ignore[arg-type]
            count += 1
            if count % BATCH == 0:
                pipe.execute()
        pipe.execute()
        return count

    # -- failure handling ---------------------------------------------------------------
    def _run(self, operation: Callable[[Any], T]) -> T:
        if self._retry_at > time.monotonic():
            raise RedisUnavailable()
        try:
            client = get_redis_connection(app_settings.REDIS_CACHE_ALIAS)
            if self._stale:
                client.delete(self.warm_key)
                self._stale = False
            result = operation(client)
        except RedisError as error:
            self._mark_down(error)
            raise RedisUnavailable() from error
        if self._down:
            self._down = False
            logger.warning("Redis is reachable again; revocation checks use it once more.")
        return result

    def _mark_down(self, error: Exception) -> None:
        self._retry_at = time.monotonic() + app_settings.REDIS_RETRY_INTERVAL.total_seconds()
        if not self._down:  # log the outage once, not once a request (G3)
            self._down = True
            logger.error(
                "Redis is unreachable (%s); checking revocations in the database.",
                type(error).__name__,
            )
