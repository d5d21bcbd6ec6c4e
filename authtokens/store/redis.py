"""The Redis revocation store: one round trip per check, composed over the database store.

Redis mirrors what the database says about every token decode may still accept: each live
device and its owner, each revoked device, token and user generation. A ``warm`` marker read in
the same round trip tells a complete mirror from a cold one (flushed, restarted, failed over,
or dropped because a copy failed); when it is missing the database answers and the mirror is
rebuilt in the background. The protocol that keeps the marker honest is written down in
ARCHITECTURE.md ("The Redis mirror"); its invariant:

    A process trusts Redis only while every revocation committed before its read is either in
    Redis or has made the warm marker absent.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import DatabaseError, connection
from django.utils import timezone
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from ..conf import app_settings
from ..models import PendingMirrorWrite
from .base import RevocationState, RevocationStore
from .database import DatabaseStore
from .guard import MirrorGuard

logger = logging.getLogger("authtokens.store")
T = TypeVar("T")

# A rebuild holds its lock this long past its last sign of life (each batch extends it).
REBUILD_LOCK = timedelta(seconds=30)
BATCH = 1000
# A pending write younger than this may simply not have reached its on_commit yet.
PENDING_GRACE = timedelta(seconds=2)
REVOKED = b"-"  # a device key's value once revoked; a live one holds "+" and its owner's id

# Generations only move forward, whatever order two mirror writes or a rebuild land in.
SET_MAX = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""
# A live device never overwrites a revoked one, whichever copy lands last, and its TTL only
# grows (two mints may land out of order). ARGV[2]: a TTL in milliseconds, 0 for none.
SET_LIVE = """
local current = redis.call('GET', KEYS[1])
if current == '-' then return 0 end
local ttl = tonumber(ARGV[2])
if ttl > 0 and current then
  local left = redis.call('PTTL', KEYS[1])
  if left == -1 then ttl = 0 elseif left > ttl then ttl = left end
end
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""
# Mark the mirror warm only if our rebuild lock survived: a flush, or a process whose copy
# failed, drops the lock, and the mirror then stays cold.
FINISH_REBUILD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""
# Redis keeps scripts only in memory: a restart, even from a snapshot that holds the warm
# marker, or a promoted replica forgets them. The mirror is trusted only where the script that
# marked it warm is still known (SCRIPT EXISTS, read with every check).
FINISH_REBUILD_SHA = hashlib.sha1(FINISH_REBUILD.encode()).hexdigest()  # noqa: S324  an id
EXTEND_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisUnavailable(Exception):
    """Redis failed, or failed recently enough that we are not asking it yet."""


class RebuildLockLost(Exception):
    """Our rebuild lock was taken away (a flush, an invalidation): stop copying."""


class RedisStore(RevocationStore):
    """Mirror revocations in Redis; fall back to the database whenever Redis cannot answer."""

    mirrors = True

    def __init__(self, cache_alias: str | None = None) -> None:
        self.database = DatabaseStore()
        self.cache_alias = cache_alias or app_settings.REDIS_CACHE_ALIAS
        self._retry_at = 0.0  # monotonic time before which Redis is not tried
        self._down = False
        self._armed = False  # whether the guard keeps its standby connection yet
        self._audit_at = time.monotonic() + app_settings.REDIS_AUDIT_INTERVAL.total_seconds()
        self._rebuilding = threading.Lock()
        self._rebuild_thread: threading.Thread | None = None
        self.guard = MirrorGuard(
            lambda: self.client().connection_pool,
            lambda: self.trust_keys,
        )

    def client(self) -> Any:
        return get_redis_connection(self.cache_alias)

    def close(self) -> None:
        """Stop this instance's background work (settings changed, tests)."""
        self.guard.stop()
        if self._rebuild_thread is not None:
            self._rebuild_thread.join(timeout=10)

    def key(self, kind: str, ident: str = "") -> str:
        return f"{app_settings.REDIS_KEY_PREFIX}{kind}:{ident}"

    @property
    def warm_key(self) -> str:
        return self.key("warm")

    @property
    def rebuild_lock_key(self) -> str:
        return self.key("rebuild")

    @property
    def trust_keys(self) -> tuple[str, str]:
        """What every invalidation deletes: the warm marker, and the lock of any rebuild that
        might otherwise mark the mirror warm over what it did not read."""
        return self.warm_key, self.rebuild_lock_key

    @staticmethod
    def owner_value(user_id: str) -> bytes:
        return b"+" + user_id.encode()

    # -- the hot path -------------------------------------------------------------------
    def get_state(self, claims: Mapping[str, Any]) -> RevocationState:
        if time.monotonic() >= self._audit_at:
            self.audit()
        keys = [self.key("d", claims["did"]), self.key("u", claims["sub"]), self.warm_key]
        bucket = self.token_bucket(claims["jti"], claims.get("exp"))

        def read(client: Any) -> list[Any]:  # three commands, one round trip
            return (
                client.pipeline(transaction=False)
                .mget(keys)
                .hexists(bucket, claims["jti"])
                .script_exists(FINISH_REBUILD_SHA)
                .execute()
            )

        try:
            (device, generation, warm), token_revoked, (built_here,) = self._run(read)
        except RedisUnavailable:
            return self.database.get_state(claims)
        if warm is not None and not built_here:
            self._forget_restarted_instance()
            warm = None
        if warm is None:
            self.rebuild_in_background()
            return self.database.get_state(claims)
        return RevocationState(
            token_revoked=bool(token_revoked),
            # Absent (an unknown device), revoked, or another user's: as the database says.
            device_revoked=device != self.owner_value(claims["sub"]),
            user_generation=int(generation or 0),
        )

    def _forget_restarted_instance(self) -> None:
        """The marker is there but the script that sets it is not: Redis lost its script
        cache, so this is not the instance that built the mirror (a restart from a snapshot,
        a failover to a replica). Drop the marker before anyone trusts it again."""
        logger.warning("Redis restarted or failed over under a warm mirror; rebuilding it.")
        try:
            self._run(lambda c: c.delete(*self.trust_keys))
        except RedisUnavailable:
            pass  # the database answers this request; the next read tries again

    def token_bucket(self, jti: str, exp: int | None) -> str:
        """Revoked jtis live as fields of small hashes, one per hour of expiry and two-letter
        prefix: about 35 bytes each instead of 133 as keys of their own (see Benchmarks)."""
        hour = "never" if exp is None else str(exp // 3600)
        return self.key("t", f"{hour}:{jti[:2]}")

    # -- mirroring ----------------------------------------------------------------------
    def token_revoked(self, jti: str, expires_at: datetime | None) -> bool:
        return self._mirror(lambda c: self._write_token(c, jti, expires_at))

    def device_revoked(self, device_id: str, expires_at: datetime | None) -> bool:
        return self._mirror(lambda c: self._write_device(c, device_id, None, expires_at))

    def device_issued(self, device_id: str, user_id: str, expires_at: datetime | None) -> bool:
        return self._mirror(lambda c: self._write_device(c, device_id, user_id, expires_at))

    def user_revoked(self, user_id: str, generation: int) -> bool:
        return self._mirror(lambda c: self._write_generation(c, user_id, generation))

    def _mirror(self, write: Callable[[Any], None]) -> bool:
        try:
            self._run(write)
            return True
        except RedisUnavailable:
            # The database holds the write (and, for a revocation, its outbox row). Until
            # Redis has dropped its warm marker, no process may trust it: the guard keeps
            # trying in the background, so this request does not wait a timeout for it.
            self.guard.invalidate()
            return False

    def _write_device(
        self, client: Any, device_id: str, owner: str | None, expires_at: datetime | None
    ) -> None:
        key = self.key("d", device_id)
        milliseconds = 0 if expires_at is None else self._milliseconds_until(expires_at)
        if expires_at is not None and milliseconds <= 0:
            return  # every token of the device is past exp + leeway already
        if owner is None:
            client.set(key, REVOKED, px=milliseconds or None)
        else:
            client.register_script(SET_LIVE)(
                keys=[key], args=[self.owner_value(owner), milliseconds]
            )

    def _write_token(self, client: Any, jti: str, expires_at: datetime | None) -> None:
        if expires_at is None:
            client.hset(self.token_bucket(jti, None), jti, "1")
            return
        exp = int(expires_at.timestamp())
        bucket = self.token_bucket(jti, exp)
        if self._milliseconds_until(exp) > 0:
            client.hset(bucket, jti, "1")
            # The hash lives until the end of its hour: past every exp it holds.
            client.pexpire(bucket, self._milliseconds_until((exp // 3600 + 1) * 3600))

    @staticmethod
    def _milliseconds_until(moment: datetime | float) -> int:
        """Milliseconds until ``moment`` (a datetime or a POSIX time) plus the leeway: entries
        are kept through the leeway too, or a token comes back during it. Plain seconds, so
        that an ``exp`` in the last hour of year 9999 cannot overflow a datetime."""
        seconds = moment.timestamp() if isinstance(moment, datetime) else moment
        remaining = seconds + app_settings.LEEWAY.total_seconds() - time.time()
        return int(remaining * 1000)

    def _write_generation(self, client: Any, user_id: str, generation: int) -> None:
        client.register_script(SET_MAX)(keys=[self.key("u", user_id)], args=[generation])

    # -- trusting the mirror ------------------------------------------------------------
    def audit(self) -> None:
        """Drop the warm marker if this Redis is not the one it was set on (a restart from a
        snapshot, a failover) or if a revocation's copy failed in some process (an outbox row
        older than its commit can explain). The rows stay: only a rebuild that read the
        database after they committed may delete them."""
        self._audit_at = time.monotonic() + app_settings.REDIS_AUDIT_INTERVAL.total_seconds()
        try:
            stale = PendingMirrorWrite.objects.filter(
                created_at__lt=timezone.now() - PENDING_GRACE
            ).exists()
        except DatabaseError:
            stale = False  # cannot tell; the next audit asks again
        try:
            run_id, warm = self._run(lambda c: (c.info("server")["run_id"], c.get(self.warm_key)))
            if warm is not None and (stale or warm.decode() != run_id):
                logger.warning("The Redis revocation mirror may be missing entries; rebuilding.")
                self._run(lambda c: c.delete(self.warm_key))
        except RedisUnavailable:
            return

    def _recover(self, client: Any) -> None:
        """First contact after an outage: a copy may have failed in any process meanwhile,
        while this one could not see the marker drop. Check the outbox before trusting."""
        try:
            pending = PendingMirrorWrite.objects.exists()
        except DatabaseError:
            pending = True
        if pending:
            client.delete(*self.trust_keys)

    # -- rebuilding ---------------------------------------------------------------------
    def rebuild_in_background(self) -> None:
        """Start one rebuild thread in this process, unless one is already running."""
        if self._rebuilding.locked():
            return
        self._rebuild_thread = threading.Thread(
            target=self._rebuild_in_thread, name="authtokens-rebuild", daemon=True
        )
        self._rebuild_thread.start()

    def _rebuild_in_thread(self) -> None:
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
        nonce, lock = secrets.token_hex(16), self.rebuild_lock_key
        lock_ms = int(REBUILD_LOCK.total_seconds() * 1000)
        try:
            if not self._run(lambda c: c.set(lock, nonce, nx=True, px=lock_ms)):
                return None
            # Read before the copy: every row listed here committed before the copy's reads,
            # so the copy covers its revocation and may retire it once the mirror is warm.
            covered = list(PendingMirrorWrite.objects.values_list("pk", flat=True))
            run_id = self._run(lambda c: c.info("server")["run_id"])
            count = self._run(lambda c: self._copy(c, self.database.mirror_contents(), nonce))
            done = self._run(
                lambda c: c.register_script(FINISH_REBUILD)(
                    keys=[lock, self.warm_key], args=[nonce, run_id]
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
        self._retire(covered)
        logger.info("Rebuilt the Redis revocation mirror with %d entries.", count)
        return count

    def _copy(self, client: Any, contents: Iterable[tuple[Any, ...]], nonce: str) -> int:
        pipe = client.pipeline(transaction=False)
        count = 0
        for entry in contents:
            kind = entry[0]
            if kind == "user":
                self._write_generation(pipe, entry[1], entry[2])
            elif kind == "device":
                self._write_device(pipe, entry[1], entry[2], entry[3])
            else:
                self._write_token(pipe, entry[1], entry[2])
            count += 1
            if count % BATCH == 0:
                self._flush(pipe, nonce)
        self._flush(pipe, nonce)
        return count

    def _flush(self, pipe: Any, nonce: str) -> None:
        """Send a batch and extend our lock; stop if the lock was taken away meanwhile."""
        lock_ms = int(REBUILD_LOCK.total_seconds() * 1000)
        pipe.register_script(EXTEND_LOCK)(
            keys=[self.rebuild_lock_key], args=[nonce, lock_ms], client=pipe
        )
        if not pipe.execute()[-1]:
            raise RebuildLockLost()

    def _retire(self, covered: list[int]) -> None:
        """Delete the outbox rows a warm, rebuilt mirror now holds."""
        try:
            for start in range(0, len(covered), BATCH):
                PendingMirrorWrite.objects.filter(pk__in=covered[start : start + BATCH]).delete()
        except DatabaseError:  # the rows stay; an audit forces another rebuild: safe
            logger.warning("Could not clear pending mirror writes after a rebuild.")

    def _release(self, lock: str, nonce: str) -> None:
        """Release our lock now, whatever the retry window says, or have the guard do it."""

        def attempt() -> None:
            self.client().register_script(RELEASE_LOCK)(keys=[lock], args=[nonce])

        try:
            attempt()
        except RedisError:
            self.guard.release(attempt, time.monotonic() + REBUILD_LOCK.total_seconds())

    # -- failure handling ---------------------------------------------------------------
    def _run(self, operation: Callable[[Any], T]) -> T:
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
        if not self._armed:
            self._armed = True
            self.guard.arm()
        return result

    def _mark_down(self, error: Exception) -> None:
        self._retry_at = time.monotonic() + app_settings.REDIS_RETRY_INTERVAL.total_seconds()
        if not self._down:  # log the outage once, not once a request (G3)
            self._down = True
            logger.error(
                "Redis is unreachable (%s); checking revocations in the database.",
                type(error).__name__,
            )
