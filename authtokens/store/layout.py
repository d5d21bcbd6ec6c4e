"""What Redis holds for the mirror: key names, values, TTLs, and the writes that set them.

ARCHITECTURE.md ("What Redis holds") is the table this module implements. The store, the
rebuild and the guard all name keys through it.

Keys are grouped by user. Each group is one Redis Cluster hash tag, so every key one check
reads (the device, the user's generation, the token's bucket and the group's warm marker) is
in one slot, and the check stays one command; different users land in different groups, so the
state and the load spread over every shard. The warm marker and the rebuild lock are per
group: a flushed or failed-over shard makes only its own groups cold. On one node there is one
group and no tag of its own (the prefix's ``{authtokens}`` keeps the keys where they were).
"""

from __future__ import annotations

import functools
import zlib
from datetime import datetime
from typing import Any

from .. import clock
from ..conf import app_settings
from .scripts import SET_LIVE, SET_MAX

REVOKED = b"-"  # a device's value once revoked; a live one holds "+" and its owner's id
SLOTS = 16384  # Redis Cluster's hash slots


@functools.lru_cache(maxsize=4)
def group_tags(groups: int) -> tuple[str, ...]:
    """One hash tag per group, chosen so that group n's slot lies in the n-th of ``groups``
    equal ranges of the slot space: a cluster splits slots into ranges, so the groups, and
    the users hashed over them, spread over the masters as evenly as the slots do."""
    from redis.crc import key_slot

    tags = []
    for group in range(groups):
        low, high = group * SLOTS // groups, (group + 1) * SLOTS // groups
        attempt = 0
        while not low <= key_slot(f"{{authtokens.{group}.{attempt}}}".encode()) < high:
            attempt += 1
        tags.append(f"{{authtokens.{group}.{attempt}}}")
    return tuple(tags)


@functools.lru_cache(maxsize=4)
def group_slots(groups: int) -> tuple[int, ...]:
    from redis.crc import key_slot

    return tuple(key_slot(tag.encode()) for tag in group_tags(groups))


def jti_bucket(jti: str, groups: int) -> str:
    """The jti's bucket within its hour: its first two letters on one node (4,096 hashes an
    hour), 16 buckets per group on a cluster (as many hashes in all with 256 groups, so a
    hash holds as many jtis, and costs as little per jti, as on one node)."""
    return jti[:2] if groups == 1 else "%x" % (ord(jti[0]) & 15)


class MirrorLayout:
    """Key names and the writes of the mirror, for ``RedisStore`` (a mixin)."""

    groups = 1  # the store sets it: 1 on one node, REDIS_GROUPS on a cluster

    def group_of(self, user_id: Any) -> int:
        """The group of a user's keys: a stable hash of their id, the same in every process."""
        if self.groups == 1:
            return 0
        return zlib.crc32(str(user_id).encode()) % self.groups

    def tag(self, group: int) -> str:
        return "" if self.groups == 1 else group_tags(self.groups)[group]

    def slot_of(self, group: int) -> int:
        return group_slots(self.groups)[group]

    def key(self, kind: str, ident: str = "", group: int = 0) -> str:
        return f"{self.tag(group)}{app_settings.REDIS_KEY_PREFIX}{kind}:{ident}"

    def user_key(self, kind: str, ident: str, user_id: Any) -> str:
        return self.key(kind, ident, self.group_of(user_id))

    @property
    def warm_key(self) -> str:
        """Group 0's warm marker: the only one on a single node."""
        return self.key("warm")

    @property
    def trust_keys(self) -> tuple[str, str]:
        return self.group_trust_keys(0)

    def group_trust_keys(self, group: int) -> tuple[str, str]:
        """What every invalidation of a group deletes: its warm marker, and the lock of any
        rebuild that might otherwise mark it warm over what it did not read."""
        return self.key("warm", group=group), self.key("rebuild", group=group)

    @staticmethod
    def owner_value(user_id: str) -> bytes:
        return b"+" + user_id.encode()

    def token_bucket(self, jti: str, exp: int | None, group: int = 0) -> str:
        """Revoked jtis live as fields of small hashes, one per hour of expiry and jti bucket:
        about 35 bytes each instead of 133 as keys of their own (see Benchmarks)."""
        hour = "never" if exp is None else str(exp // 3600)
        return self.key("t", f"{hour}:{jti_bucket(jti, self.groups)}", group)

    def write_device(
        self,
        client: Any,
        device_id: str,
        owner: str | None,
        expires_at: datetime | None,
        user_id: Any = None,
    ) -> None:
        """``owner`` None writes "revoked"; ``user_id`` places the key (the owner by default)."""
        key = self.user_key("d", device_id, owner if user_id is None else user_id)
        milliseconds = 0 if expires_at is None else self._milliseconds_until(expires_at)
        if expires_at is not None and milliseconds <= 0:
            return  # every token of the device is past exp + leeway already
        if owner is None:
            client.set(key, REVOKED, px=milliseconds or None)
        else:
            self.run_script(client, SET_LIVE, [key], [self.owner_value(owner), milliseconds])

    def write_token(
        self, client: Any, jti: str, expires_at: datetime | None, user_id: Any = None
    ) -> None:
        group = self.group_of(user_id)
        if expires_at is None:
            client.hset(self.token_bucket(jti, None, group), jti, "1")
            return
        exp = int(expires_at.timestamp())
        bucket = self.token_bucket(jti, exp, group)
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
        remaining = seconds + app_settings.LEEWAY.total_seconds() - clock.timestamp()
        return int(remaining * 1000)

    def write_generation(self, client: Any, user_id: str, generation: int) -> None:
        self.run_script(client, SET_MAX, [self.user_key("u", user_id, user_id)], [generation])

    @staticmethod
    def run_script(client: Any, source: str, keys: list[str], args: list[Any]) -> Any:
        """Run one of our write scripts by its sha (loaded on first use), on a client, a
        cluster client or one node's pipeline (never a cluster pipeline: it runs no script)."""
        return client.register_script(source)(keys=keys, args=args)
