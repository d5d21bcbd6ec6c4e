"""The mirror's writes: each revocation copied to the node that serves its user's group.

A revocation waits for ``REDIS_MIN_REPLICAS`` replicas to hold its copy (``WAIT``); a copy
that fails, or that no replica acknowledged, makes its group's warm marker go
(``RedisAccess.invalidate``), so that no process trusts a mirror without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from redis.exceptions import RedisClusterException, RedisError, ResponseError

from ..conf import app_settings
from .access import REDIRECTS, RedisAccess
from .rebuild import RedisUnavailable

logger = logging.getLogger("authtokens.store")


class MirrorWrites(RedisAccess):
    """The ``*_revoked`` and ``device_issued`` hooks of ``RedisStore`` (a mixin)."""

    min_replicas: int
    _unreplicated_said: dict[str, float]

    # -- mirroring ----------------------------------------------------------------------
    def token_revoked(self, jti: str, expires_at: datetime | None, user_id: Any = None) -> bool:
        return self._mirror(lambda c: self.write_token(c, jti, expires_at, user_id), user_id)

    def device_revoked(
        self, device_id: str, expires_at: datetime | None, user_id: Any = None
    ) -> bool:
        return self._mirror(
            lambda c: self.write_device(c, device_id, None, expires_at, user_id), user_id
        )

    def device_issued(self, device_id: str, user_id: str, expires_at: datetime | None) -> bool:
        # Not a revocation: lost with a failover, the device is only unknown, hence refused.
        write = lambda c: self.write_device(c, device_id, user_id, expires_at)  # noqa: E731
        return self._mirror(write, user_id, revocation=False)

    def user_revoked(self, user_id: str, generation: int) -> bool:
        return self._mirror(lambda c: self.write_generation(c, user_id, generation), user_id)

    def _mirror(self, write: Callable[[Any], None], user_id: Any, revocation: bool = True) -> bool:
        group = self.group_of(user_id)
        acks = self.min_replicas if revocation else 0
        try:
            node = self.node_name(group)
            acknowledged = self.run(lambda c: self._write(c, group, node, write, acks), node)
        except (RedisUnavailable, RedisClusterException) as error:
            if isinstance(error.__cause__, REDIRECTS):
                self.follow_topology(now=True)  # the invalidation goes where the group is
            elif isinstance(error.__cause__, ResponseError):
                self.poison(node)  # up, serving reads, refusing writes: the DEL would fail too
            # The database holds the write (and, for a revocation, its outbox row). Until
            # Redis has dropped the group's warm marker, no process may trust it: the guard
            # keeps trying in the background, so this request does not wait a timeout for it.
            self.invalidate([group])
            return False
        if acknowledged < acks:
            # Only the master holds it: a failover may lose it, or this master was deposed.
            self._unreplicated(node)
            self.invalidate([group], on_current_master=True)
            return False
        return True

    def _write(
        self, client: Any, group: int, node: str, write: Callable[[Any], None], acks: int
    ) -> int:
        """Run ``write``; with ``acks``, on one connection with a WAIT after it, and return
        how many replicas acknowledged it (Redis's WAIT counts that connection's writes).
        A node that no longer serves the group (a failover) is followed once."""
        if not acks:
            write(client)
            return 0
        try:
            return self._write_waiting(node, write, acks)
        except REDIRECTS:
            self.follow_topology(now=True)
            return self._write_waiting(self.node_name(group), write, acks)

    def _write_waiting(self, node: str, write: Callable[[Any], None], acks: int) -> int:
        pipe = self.topology().on_node(node).pipeline(transaction=False)
        write(pipe)
        pipe.wait(acks, int(app_settings.REDIS_REPLICA_TIMEOUT.total_seconds() * 1000))
        return int(pipe.execute()[-1])

    def _unreplicated(self, node: str) -> None:
        """Say once a minute per process that a master lacks its replicas (a shard after a
        failover, a deposed master): its users are checked in the database until one joins."""
        now = time.monotonic()
        if now >= self._unreplicated_said.get(node, 0.0):
            self._unreplicated_said[node] = now + 60
            logger.warning(
                "Redis master %s has fewer than REDIS_MIN_REPLICAS=%d replicas; its users' "
                "revocations are checked in the database until one is connected.",
                node or "(the one node)",
                self.min_replicas,
            )

    def reroute(self, groups: list[int]) -> bool:
        """Drop the trust of ``groups`` on the nodes that serve them now, for a guard whose
        node refused (MOVED, READONLY, NOREPLICAS...); whether every drop took effect."""
        self.follow_topology(now=True)
        for group in groups:
            node = ""
            try:
                node = self.node_name(group)
                self.topology().delete_now(node, self.group_trust_keys(group))
            except REDIRECTS:
                return False
            except ResponseError:  # it refuses writes (min-replicas-to-write, MISCONF)
                if not self.poison(node):
                    return False
            except (RedisError, RedisClusterException, OSError):
                return False
        return True

    def poison(self, node: str) -> bool:
        """Make ``node`` untrusted without writing to it, for a node that serves reads but
        refuses writes, so that the marker's DEL cannot run: ``SCRIPT FLUSH`` is no write, and
        every read then answers NOSCRIPT, and trusts the node again only after it has deleted
        its markers and loaded the script (``reload_scripts``), that is once it takes writes.
        Whether the flush ran."""
        try:
            self.topology().on_node(node).script_flush()
        except (RedisError, RedisClusterException, OSError):
            return False
        logger.warning("Redis refuses writes; its mirror is not trusted until it takes them.")
        return True
