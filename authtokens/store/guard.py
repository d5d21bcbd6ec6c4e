"""The mirror guard: delivers, in the background, what a failed mirror write owes Redis.

When a revocation commits but its copy cannot reach Redis, the mirror must stop being trusted
before anyone reads it again. The request that revoked cannot wait for that (Redis may hang for
seconds), so it hands the job to this thread, one per process, which keeps trying until Redis
has executed ``DEL warm rebuild-lock``:

- The command is written on a connection that sends nothing before it (no handshake to wait
  for) and is never abandoned on a timeout: a hung Redis (SIGSTOP, a long fork) finds it queued
  in its socket buffer and runs it before anything a client sends after it wakes up.
- Deleting the rebuild lock too makes a rebuild that started before the revocation unable to
  mark the mirror warm over it (its finishing script checks its lock).
- An invalidation requested while one is in flight is sent again once the first lands: only a
  command sent after the commit is known to cover it.

It also releases rebuild locks whose release failed, so that a blip during a rebuild does not
leave every process on the database until the lock's TTL runs out.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("authtokens.store")

RETRY_PAUSE = 0.05  # seconds between connection attempts while Redis refuses or is gone
IDLE_WAKE = 1.0  # seconds the thread sleeps when it has nothing to do


def queued_connection(pool: Any) -> Any:
    """A connection of ``pool``'s kind that sends nothing on connect.

    redis-py's handshake (CLIENT SETINFO, AUTH, SELECT) waits for replies, so against a hung
    server our command would never be written. The caller sends AUTH and SELECT itself, in
    one write with its command.
    """

    class NoHandshake(pool.connection_class):
        def on_connect(self) -> None:
            self._parser.on_connect(self)

        def on_connect_check_health(self, check_health: bool = True) -> None:
            self._parser.on_connect(self)

    return NoHandshake(**pool.connection_kwargs)


def handshake_commands(connection: Any) -> list[tuple[Any, ...]]:
    """The AUTH and SELECT that redis-py's skipped handshake would have sent."""
    commands: list[tuple[Any, ...]] = []
    password = getattr(connection, "password", None)
    if password:
        username = getattr(connection, "username", None)
        commands.append(("AUTH", username, password) if username else ("AUTH", password))
    if getattr(connection, "db", 0):
        commands.append(("SELECT", connection.db))
    return commands


class MirrorGuard:
    """One background thread per process and store; started on first use, after any fork."""

    def __init__(self, pool: Callable[[], Any], invalidation: Callable[[], tuple[str, ...]]):
        self._pool = pool  # returns the connection pool of the store's Redis
        self._invalidation = invalidation  # returns the keys to delete
        self._condition = threading.Condition()
        self._requested = 0  # invalidations asked for, ever
        self._delivered = 0  # the highest request known to be covered by an executed DEL
        self._releases: list[tuple[Callable[[], Any], float]] = []
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopped = False

    # -- what the store asks for --------------------------------------------------------
    def invalidate(self) -> None:
        """Drop the warm marker and any rebuild lock, as soon as Redis can be reached."""
        with self._condition:
            self._requested += 1
            self._start()
            self._condition.notify()

    def release(self, attempt: Callable[[], Any], until: float) -> None:
        """Run ``attempt`` (a lock release) until it succeeds or ``until`` (monotonic)."""
        with self._condition:
            self._releases.append((attempt, until))
            self._start()
            self._condition.notify()

    @property
    def owes_invalidation(self) -> bool:
        return self._delivered < self._requested

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is owed (for tests and shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.owes_invalidation or self._releases:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- the thread ---------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._pid, self._stopped = os.getpid(), False
        self._thread = threading.Thread(target=self._run, name="authtokens-guard", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not (self._stopped or self.owes_invalidation or self._releases):
                    self._condition.wait(IDLE_WAKE)
                if self._stopped:
                    return
                target = self._requested
            if target > self._delivered:
                self._deliver_invalidation(target)
            self._deliver_releases()

    def _deliver_invalidation(self, target: int) -> None:
        connection, unread = None, 0
        while not self._stopped:
            try:
                if connection is None:
                    connection = queued_connection(self._pool())
                    connection.connect()
                    commands = [*handshake_commands(connection), ("DEL", *self._invalidation())]
                    connection.send_packed_command(connection.pack_commands(commands), False)
                    unread = len(commands)
                while unread:
                    # Keeps the socket on a timeout: the command stays queued in Redis.
                    connection.read_response(disconnect_on_error=False)
                    unread -= 1
                break
            except RedisTimeoutError:
                continue
            except (RedisError, OSError):
                if connection is not None:
                    connection.disconnect()
                connection = None
                time.sleep(RETRY_PAUSE)
        if connection is not None:
            connection.disconnect()
        if not self._stopped:
            with self._condition:
                self._delivered = max(self._delivered, target)
            logger.warning("Dropped the Redis mirror's warm marker after a failed copy.")

    def _deliver_releases(self) -> None:
        """Try each pending release once; keep the ones that failed and have time left."""
        with self._condition:
            pending, self._releases = self._releases, []
        kept = []
        for attempt, until in pending:
            try:
                attempt()
            except (RedisError, OSError):
                if time.monotonic() < until:
                    kept.append((attempt, until))
        if kept:
            with self._condition:
                self._releases.extend(kept)
            time.sleep(RETRY_PAUSE * 4)
