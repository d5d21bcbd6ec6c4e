"""The verdict cache: a process answers a check it has answered before with no round trip.

Opt-in (``REDIS_VERDICT_CACHE``). Kept true by Redis's server-assisted client-side caching:
the cache reads on one connection of its own, in RESP3 with ``CLIENT TRACKING ON`` (default
mode, so Redis writes each invalidation into that connection's stream the moment a key read
through it changes; the script's reads are tracked for the caller). Invalidations and replies
share that ordered stream, so a reply to a command sent at time ``t`` proves that every
invalidation of a write Redis executed before ``t`` has been applied.

A verdict is served only while such a proof is younger than ``REDIS_VERDICT_CACHE_BOUND``: a
heartbeat ``PING`` renews it every quarter of the bound. A lost connection, a flush (an
invalidation of every key), the warm marker's deletion, or a heartbeat that goes unanswered
(a hung Redis) drops or stops trusting everything. The bound is a bound, not "the next
request": another process's revocation may be accepted for up to the bound after Redis
executed it, which is why this is not the default (ARCHITECTURE.md, "The Redis mirror").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from ..conf import app_settings
from .scripts import READ_STATE_SHA

logger = logging.getLogger("authtokens.store")

MAX_ENTRIES = 100_000  # then start again from empty: memory stays bounded
Entry = tuple[tuple[str, ...], str]  # (the read's four keys, the jti)


class VerdictCache:
    """Verdicts by (keys, jti), each dropped when Redis says one of its keys changed."""

    def __init__(self, pool: Callable[[], Any]) -> None:
        self._pool = pool
        self._lock = threading.Lock()  # whoever holds it owns the connection's stream
        self._connection: Any = None
        self._replies: dict[Entry, Any] = {}
        self._by_key: dict[str, set[Entry]] = {}
        self._proved_at = float("-inf")  # send time of the last command answered (monotonic)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopped = False

    # -- the request side ----------------------------------------------------------------
    def get(self, entry: Entry) -> Any:
        """The reply read before for ``entry``, if the stream is proved current enough."""
        if time.monotonic() - self._proved_at > bound() or self._pid != os.getpid():
            return None  # not proved lately, or proved for the parent of this forked child
        return self._replies.get(entry)

    def read(self, entry: Entry, owner: bytes) -> Any:
        """Read ``entry`` through the tracked connection and keep the reply; None if the
        connection is busy (a heartbeat waiting on a slow Redis): the caller reads elsewhere.
        Raise ``RedisError`` as a read would."""
        self._start()
        if not self._lock.acquire(blocking=False):
            return None
        try:
            connection = self._connect()
            keys, jti = entry
            sent = time.monotonic()
            connection.send_command("EVALSHA", READ_STATE_SHA, 4, *keys, jti, owner)
            reply = connection.read_response()
            self._proved_at = max(self._proved_at, sent)
            if reply[0]:  # only a warm mirror's answers are kept
                if len(self._replies) >= MAX_ENTRIES:
                    self._forget()
                self._replies[entry] = reply
                for key in keys:
                    self._by_key.setdefault(key, set()).add(entry)
            return reply
        except RedisError:
            self._drop_connection()
            raise
        finally:
            self._lock.release()

    # -- the stream ------------------------------------------------------------------------
    def _connect(self) -> Any:
        """The tracked connection (called with the lock held); opened on first use."""
        if self._connection is None:
            pool = self._pool()
            connection = pool.connection_class(**{**pool.connection_kwargs, "protocol": 3})
            connection.connect()
            connection._parser.set_invalidation_push_handler(self._invalidated)
            connection.send_command("CLIENT", "TRACKING", "ON")
            connection.read_response()
            self._connection = connection
        return self._connection

    def _invalidated(self, push: list[Any]) -> None:
        """Redis says these keys changed (None: every key, a flush)."""
        keys = push[1] if len(push) > 1 else None
        if keys is None:
            self._forget()
            return
        for key in keys:
            name = key.decode() if isinstance(key, bytes) else str(key)
            for entry in self._by_key.pop(name, ()):
                self._replies.pop(entry, None)

    def _forget(self) -> None:
        self._replies, self._by_key = {}, {}

    def _drop_connection(self) -> None:
        """Called with the lock held: whatever the stream held is unknown now."""
        self._proved_at = float("-inf")
        self._forget()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.disconnect()

    # -- the heartbeat -----------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        if self._pid != os.getpid():  # a forked child: its parent's socket is not ours
            self._connection, self._proved_at = None, float("-inf")
            self._forget()
            self._lock = threading.Lock()
        self._pid, self._stopped = os.getpid(), False
        self._thread = threading.Thread(target=self._beat, name="authtokens-verdicts", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped = True
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(timeout=5)
        with self._lock:
            self._drop_connection()

    def _beat(self) -> None:
        while not self._stopped:
            time.sleep(bound() / 4)
            with self._lock:
                try:
                    connection = self._connect()
                    sent = time.monotonic()
                    connection.send_command("PING")
                    connection.read_response()  # applies every invalidation queued before it
                    self._proved_at = sent
                except (RedisError, OSError):
                    self._drop_connection()


def bound() -> float:
    return float(app_settings.REDIS_VERDICT_CACHE_BOUND.total_seconds())
