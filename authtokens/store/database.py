"""The database revocation store: the source of truth, one query per check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db import DatabaseError
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from ..exceptions import StoreUnavailable
from ..models import DeletedDevice, Device, RevokedAccessToken, UserTokenState
from .base import RevocationState, RevocationStore


class DatabaseStore(RevocationStore):
    """Check every level in a single SELECT; mirroring is a no-op, the rows are the truth."""

    def get_state(self, *, user_id: str, device_id: str, jti: str) -> RevocationState:
        generation = UserTokenState.objects.filter(user_id=OuterRef("user_id")).values(
            "generation"
        )[:1]
        query = (
            Device.objects.filter(pk=device_id)
            .annotate(
                generation=Subquery(generation),
                token_revoked=Exists(RevokedAccessToken.objects.filter(jti=jti)),
            )
            .values_list("user_id", "revoked_at", "generation", "token_revoked")
        )
        try:
            row = query.first()
        except DatabaseError as error:
            raise StoreUnavailable() from error
        # A deleted device, or one of another user, leaves nothing to trust.
        if row is None or str(row[0]) != user_id:
            return RevocationState(device_revoked=True)
        _, revoked_at, generation, token_revoked = row
        return RevocationState(
            token_revoked=token_revoked,
            device_revoked=revoked_at is not None,
            user_generation=generation or 0,
        )

    def live_revocations(
        self,
    ) -> Iterator[tuple[str, str, datetime | None] | tuple[str, str, int]]:
        """Yield every revocation a mirror must hold: ("token"|"device", id, expiry) or
        ("user", id, generation)."""
        tokens = RevokedAccessToken.objects.live().values_list("jti", "expires_at")
        for jti, expires_at in tokens.iterator(chunk_size=5000):
            yield ("token", jti, expires_at)
        devices = Device.objects.revoked_live().values_list("pk", "expires_at")
        for device_id, expires_at in devices.iterator(chunk_size=5000):
            yield ("device", str(device_id), expires_at)
        deleted = DeletedDevice.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        ).values_list("device_id", "expires_at")
        for device_id, expires_at in deleted.iterator(chunk_size=5000):
            yield ("device", str(device_id), expires_at)
        users = UserTokenState.objects.filter(generation__gt=0).values_list("user_id", "generation")
        for user_id, generation in users.iterator(chunk_size=5000):
            yield ("user", str(user_id), generation)
