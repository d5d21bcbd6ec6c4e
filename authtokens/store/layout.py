"""What Redis holds for the mirror: key names, values, TTLs, and the writes that set them.

ARCHITECTURE.md ("What Redis holds") is the table this module implements. The store, the
rebuild and the guard all name keys through it, so a new layout (one hash tag per user on a
cluster, say) changes here alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import clock
from ..conf import app_settings
from .scripts import SET_LIVE, SET_MAX

REVOKED = b"-"  # a device key's value once revoked; a live one holds "+" and its owner's id


class MirrorLayout:
    """Key names and the writes of the mirror, for ``RedisStore`` (a mixin)."""

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

    def token_bucket(self, jti: str, exp: int | None) -> str:
        """Revoked jtis live as fields of small hashes, one per hour of expiry and two-letter
        prefix: about 35 bytes each instead of 133 as keys of their own (see Benchmarks)."""
        hour = "never" if exp is None else str(exp // 3600)
        return self.key("t", f"{hour}:{jti[:2]}")

    def write_device(
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

    def write_token(self, client: Any, jti: str, expires_at: datetime | None) -> None:
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
        remaining = seconds + app_settings.LEEWAY.total_seconds() - clock.timestamp()
        return int(remaining * 1000)

    def write_generation(self, client: Any, user_id: str, generation: int) -> None:
        client.register_script(SET_MAX)(keys=[self.key("u", user_id)], args=[generation])
