"""The database revocation store: the source of truth, one query per check."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from django.db import DatabaseError, connections, router

from ..exceptions import StoreUnavailable
from ..models import DeletedDevice, Device, RevokedAccessToken, UserTokenState, still_accepted
from .base import RevocationState, RevocationStore

_USER_KEY = Device._meta.get_field("user").target_field
_SQL_BY_VENDOR: dict[str, str] = {}


def _state_sql(connection: Any) -> str:
    """The one revocation query: device row, user generation and jti denylist together."""
    sql = _SQL_BY_VENDOR.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name

        def table(model: Any) -> str:
            return quote(model._meta.db_table)

        def column(model: Any, name: str) -> str:
            return quote(model._meta.get_field(name).column)

        user, state_user = column(Device, "user"), column(UserTokenState, "user")
        # Identifiers come from model metadata, quoted; values are bound parameters.
        sql = _SQL_BY_VENDOR[connection.vendor] = (
            f"SELECT d.{user}, d.{column(Device, 'revoked_at')}, "  # noqa: S608
            f"(SELECT s.{column(UserTokenState, 'generation')} FROM {table(UserTokenState)} s "
            f"WHERE s.{state_user} = d.{user}), "
            f"EXISTS(SELECT 1 FROM {table(RevokedAccessToken)} r "
            f"WHERE r.{column(RevokedAccessToken, 'jti')} = %s) "
            f"FROM {table(Device)} d WHERE d.{column(Device, 'id')} = %s"
        )
    return sql


class DatabaseStore(RevocationStore):
    """Check every level in a single SELECT; mirroring is a no-op, the rows are the truth.

    The SELECT is written once per database vendor, not built by the ORM on every request:
    building and compiling the equivalent queryset cost three times the query itself.
    """

    def get_state(self, claims: Mapping[str, Any]) -> RevocationState:
        user_id, device_id, jti = claims["sub"], claims["did"], claims["jti"]
        alias = router.db_for_read(Device)
        connection = connections[alias]
        device_pk = Device._meta.pk.get_db_prep_value(uuid.UUID(device_id), connection)
        try:
            with connection.cursor() as cursor:
                cursor.execute(_state_sql(connection), [jti, device_pk])
                row = cursor.fetchone()
        except DatabaseError as error:
            raise StoreUnavailable() from error
        # A deleted device, or one of another user, leaves nothing to trust.
        if row is None or str(_USER_KEY.to_python(row[0])) != user_id:
            return RevocationState(device_revoked=True)
        _, revoked_at, generation, token_revoked = row
        return RevocationState(
            token_revoked=bool(token_revoked),
            device_revoked=revoked_at is not None,
            user_generation=generation or 0,
        )

    def mirror_contents(self) -> Iterator[tuple[str, ...] | tuple[Any, ...]]:
        """Yield everything a mirror must hold to answer as this store does, each entry with
        the user it belongs to last: ("token", jti, expiry, user) for revoked tokens,
        ("device", id, owner or None, expiry, user) for every device whose tokens decode may
        still accept (owner None: revoked or deleted; user "" for a tombstone older than
        0.2), and ("user", id, generation)."""
        tokens = RevokedAccessToken.objects.live().values_list("jti", "expires_at", "user_id")
        for jti, expires_at, user_id in tokens.iterator(chunk_size=5000):
            yield ("token", jti, expires_at, str(user_id))
        devices = Device.objects.mirrored().values_list("pk", "user_id", "revoked_at", "expires_at")
        for device_id, user_id, revoked_at, expires_at in devices.iterator(chunk_size=5000):
            owner = None if revoked_at is not None else str(user_id)
            yield ("device", str(device_id), owner, expires_at, str(user_id))
        deleted = DeletedDevice.objects.filter(still_accepted()).values_list(
            "device_id", "expires_at", "user_id"
        )
        for device_id, expires_at, owner in deleted.iterator(chunk_size=5000):
            yield ("device", str(device_id), None, expires_at, owner)
        users = UserTokenState.objects.filter(generation__gt=0).values_list("user_id", "generation")
        for user_id, generation in users.iterator(chunk_size=5000):
            yield ("user", str(user_id), generation)
