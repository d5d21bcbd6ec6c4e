"""The mirror guard: delivers what a failed mirror write owes Redis, until Redis has it.

When a revocation commits but its copy cannot reach Redis, the mirror must stop being trusted
before anyone reads it again: Redis must execute ``DEL warm rebuild-lock``.

- The revoking request writes that command itself, after its commit and before its response,
  so the command is in Redis's socket buffer before anything a client sends after the
  response; it does not wait for the reply (Redis may hang for seconds). The connection sends
  nothing before it (no handshake reply to wait for), and a timeout never abandons it: a hung
  Redis (SIGSTOP, a long fork) finds it queued and runs it first when it wakes up.
- This module's thread, one per process and node, reads the replies, and writes the command
  again (50 ms apart) when a connection was refused or lost, until Redis has executed one
  written after the last commit that asked for it. A node that answers MOVED or READONLY no
  longer serves the groups: the store drops them where they are now (``reroute``).
- Deleting the rebuild lock too makes a rebuild that started before the revocation unable to
  mark the mirror warm over it (its finishing script checks its lock).

It also releases rebuild locks whose release failed. Writing on connections that send nothing
first, and reading their replies later, is ``queued.py``'s.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from redis.exceptions import RedisError

from .queued import Replies, Sent, answering, read_replies, write

logger = logging.getLogger("authtokens.store")

RETRY_PAUSE = 0.05  # seconds between connection attempts while Redis refuses or is gone
IDLE_WAKE = 10.0  # seconds between checks that the standby connection is still alive
STANDBY_RETRY = 1.0  # seconds between attempts to open it while Redis cannot be reached
SYNC_PAUSE = 1.0  # after a caller could not connect, callers leave it to the thread this long


class MirrorGuard:
    """Delivers invalidations and lock releases; one thread per process and store, started on
    first use, after any fork.

    The first attempt at an invalidation is made by the caller, after its commit and before its
    response: the command is then written before anything a client sends after that response.
    Only the replies are awaited in the background. When that attempt cannot even connect, the
    thread retries, and the callers of the next ``SYNC_PAUSE`` do not try again themselves, so
    an unreachable Redis costs a request at most one connect timeout a second per process.
    """

    def __init__(self, pool: Callable[[], Any], invalidation: Callable, reroute: Callable):
        self._pool = pool  # returns the connection pool of the node this guard writes to
        self._invalidation = invalidation  # groups -> the commands that drop their trust
        self._reroute = reroute  # groups -> whether they were dropped where they are now
        self._owed_groups: set[int] = set()  # the groups whose trust must drop
        self._condition = threading.Condition()
        self._requested = 0  # invalidations asked for, ever
        self._delivered = 0  # the highest request covered by a DEL that Redis has executed
        self._handed_over: list[Sent] = []  # written by callers, for the thread to read
        self._sync_again_at = 0.0
        self._standby: Any = None  # an established connection, its handshake done
        self._standby_again_at = 0.0  # after a failed opening, not before this (monotonic)
        self._armed = False
        self._releases: list[tuple[Callable[[], Any], float]] = []
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopped = False

    # -- what the store asks for --------------------------------------------------------
    def invalidate(self, groups: Iterable[int] = (0,)) -> None:
        """Drop the warm marker and rebuild lock of ``groups`` as soon as Redis is reached."""
        with self._condition:
            self._owed_groups.update(groups)
            self._requested += 1
            covers, try_now = self._requested, time.monotonic() >= self._sync_again_at
            standby, self._standby = self._standby, None
        sent = self._send(covers, standby) if try_now or standby is not None else None
        with self._condition:
            if sent is not None:
                self._handed_over.append(sent)
            elif try_now:
                self._sync_again_at = time.monotonic() + SYNC_PAUSE
            self._start()
            self._condition.notify()

    def arm(self) -> None:
        """Keep a standby connection open from now on (the store has reached Redis).

        A command written on a new connection waits in Redis's accept queue, and a hung
        Redis that wakes up may serve an established connection's read before it; written on
        an established one, it is served in the order it arrived."""
        with self._condition:
            if not self._armed:
                self._armed = True
                self._start()
                self._condition.notify()

    def release(self, attempt: Callable[[], Any], until: float) -> None:
        """Run ``attempt`` (a lock release) until it succeeds or ``until`` (monotonic)."""
        with self._condition:
            self._releases.append((attempt, until))
            self._start()
            self._condition.notify()

    @property
    def standing_by(self) -> bool:
        """Whether the standby connection is open (its handshake done)."""
        return self._standby is not None

    @property
    def owes_invalidation(self) -> bool:
        return self._delivered < self._requested

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(timeout=5)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is owed (for tests and shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.owes_invalidation or self._releases:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- writing the command ------------------------------------------------------------
    def _send(self, covers: int, standby: Any = None) -> Sent | None:
        """Write the invalidation, on ``standby`` if given; the thread reads the replies. The
        owed groups include all requested up to ``covers`` (added before the count grows)."""
        with self._condition:
            groups = sorted(self._owed_groups)
        return write(self._pool, self._invalidation(groups), covers, standby)

    def _keep_standby(self) -> None:
        """Open the standby connection, or check that it still answers."""
        with self._condition:
            standby, self._standby = self._standby, None
        standby = answering(self._pool, standby)
        if standby is None:
            self._standby_again_at = time.monotonic() + STANDBY_RETRY
            return
        with self._condition:
            if self._standby is None and not self._stopped:
                self._standby, standby = standby, None
        if standby is not None:
            standby.disconnect()

    # -- the thread ---------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        if self._pid != os.getpid():  # a forked child: its parent's sockets are not ours
            self._standby, self._handed_over = None, []
        self._pid, self._stopped = os.getpid(), False
        self._thread = threading.Thread(target=self._run, name="authtokens-guard", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        in_flight: list[Sent] = []
        while not self._stopped:
            try:
                in_flight = self._step(in_flight)
            except Exception:  # this thread must outlive any surprise; say so, try again
                logger.exception("The Redis mirror guard failed; retrying.")
                time.sleep(RETRY_PAUSE * 20)
        for sent in in_flight:
            sent.connection.disconnect()
        with self._condition:
            standby, self._standby = self._standby, None
        if standby is not None:
            standby.disconnect()

    def _step(self, in_flight: list[Sent]) -> list[Sent]:
        """Wait for work, then write what is owed, read replies, release locks."""
        with self._condition:
            if not self._work_waiting():
                # Without a standby (Redis was away), try again sooner than the keep-alive.
                missing = self._armed and self._standby is None
                self._condition.wait(STANDBY_RETRY if missing else IDLE_WAKE)
            in_flight += self._handed_over
            self._handed_over.clear()
            stopped, requested = self._stopped, self._requested
        if stopped:
            return in_flight
        if self._delivered < requested and not in_flight:
            sent = self._send(requested)
            if sent is None:
                time.sleep(RETRY_PAUSE)
            else:
                in_flight.append(sent)
        in_flight = self._read_replies(in_flight)
        self._deliver_releases()
        if self._armed and not self.owes_invalidation:
            self._keep_standby()
        return in_flight

    def _work_waiting(self) -> bool:
        """Whether the thread has something to do now (called with the condition held)."""
        opening_due = (
            self._armed and self._standby is None and time.monotonic() >= self._standby_again_at
        )
        return self._stopped or self.owes_invalidation or bool(self._releases) or opening_due

    def _read_replies(self, in_flight: list[Sent]) -> list[Sent]:
        """Read what has come back; keep what still waits (a timeout leaves it queued)."""
        waiting = []
        for sent in in_flight:
            replies = read_replies(sent)
            if replies is Replies.WAITING:
                waiting.append(sent)
            elif replies is Replies.LOST:
                time.sleep(RETRY_PAUSE)  # then written again, if still owed: never a busy loop
            elif replies is Replies.REFUSED and not self._reroute(sorted(self._owed_groups)):
                time.sleep(SYNC_PAUSE)  # up but refusing: ask again in a second, not at once
            elif sent.covers > self._delivered:
                with self._condition:
                    self._delivered = max(self._delivered, sent.covers)
                    if not self.owes_invalidation:
                        self._owed_groups.clear()
                logger.warning("Dropped the Redis mirror's warm marker after a failed copy.")
        if not self.owes_invalidation:
            for sent in waiting:
                sent.connection.disconnect()
            return []
        return waiting

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
