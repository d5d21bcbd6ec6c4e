"""The auditor: one thread per process and store that runs the mirror's audit on a schedule.

The audit (an ``INFO``, a ``GET`` and one small query, sometimes a rebuild) used to run inside
whichever request came due; here it runs beside the requests, every
``REDIS_AUDIT_INTERVAL``, so that a request's check is exactly one Redis command. It has a
thread of its own rather than the guard's: an audit may wait a socket timeout on a hung
Redis, and the guard must never wait behind one to deliver an invalidation.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from ..conf import app_settings
from . import outbox
from .rebuild import PENDING_GRACE, Rebuilder, RedisUnavailable

logger = logging.getLogger("authtokens.store")

MIN_PAUSE = 0.05  # seconds: the floor under REDIS_AUDIT_INTERVAL (0 means "as often as can be")


class Auditor:
    """Call ``audit`` every ``REDIS_AUDIT_INTERVAL`` (read live) from a daemon thread, started
    by ``start()`` and again after a fork, until ``stop()``."""

    def __init__(self, audit: Callable[[], None]) -> None:
        self._audit = audit
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopped = False

    def start(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._pid, self._stopped = os.getpid(), False
        self._wake = threading.Event()  # a forked child's copy may be set
        self._thread = threading.Thread(target=self._run, name="authtokens-audit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped:
            pause = app_settings.REDIS_AUDIT_INTERVAL.total_seconds()
            if self._wake.wait(max(pause, MIN_PAUSE)) or self._stopped:
                return
            try:
                self._audit()
            except Exception:  # this thread must outlive any surprise; say so, go on
                logger.exception("Auditing the Redis revocation mirror failed.")
            finally:
                connection.close()  # this thread's own database connection, not kept idle


def audit(rebuilder: Rebuilder) -> None:
    """Drop a group's warm marker if its node is not the one it was set on (a restart from a
    snapshot, a failover) or if a revocation's copy for one of its users failed in some
    process (an outbox row older than its commit can explain), then start a rebuild. Node by
    node: a dead shard does not hold up the others' audit. The rows stay: only a rebuild that
    read the database after they committed may delete them."""
    store = rebuilder.store
    stale = store.groups_of(outbox.stale(PENDING_GRACE))
    wanted = False
    for node, groups in store.groups_by_node().items():
        try:
            wanted |= store.run(_node_auditor(rebuilder, node, groups, stale), node)
        except RedisUnavailable:
            continue
    if wanted:
        rebuilder.in_background()


def _node_auditor(
    rebuilder: Rebuilder, node: str, groups: list[int], stale: set[int]
) -> Callable[[Any], bool]:
    def audit_node(_: Any) -> bool:
        """Audit the groups ``node`` serves; whether a rebuild is wanted."""
        client = rebuilder.store.topology().on_node(node)
        run_id = client.info("server")["run_id"]
        values = rebuilder.values(client, groups, 0)
        distrusted = [
            group
            for group, value in zip(groups, values, strict=True)
            if value is not None and (group in stale or value.decode() != run_id)
        ]
        if distrusted:
            logger.warning("The Redis revocation mirror may be missing entries; rebuilding.")
            pipe = client.pipeline(transaction=False)
            for group in distrusted:
                pipe.delete(rebuilder.store.group_trust_keys(group)[0])
            pipe.execute()
        return bool(distrusted)  # a cold group is rebuilt by its first read, as on one node

    return audit_node
