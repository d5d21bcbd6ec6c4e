"""The transactional outbox of the mirror: its one owner (``PendingMirrorWrite`` rows).

A revocation writes a row in its own transaction; the row is deleted once the store has
copied the revocation. A row that stays says "some process may have failed to copy
something": the store then stops trusting its mirror until a rebuild that read the database
after the row committed has retired it (ARCHITECTURE.md, "The Redis mirror").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db import DatabaseError, transaction

from .. import clock
from ..models import PendingMirrorWrite

logger = logging.getLogger("authtokens.store")

BATCH = 1000


def copy_on_commit(copy: Callable[[], bool]) -> None:
    """Run ``copy`` after the current transaction commits, with an outbox row committed in
    it; the row goes once ``copy`` returns True, and stays (for the audit) otherwise."""
    pending = PendingMirrorWrite.objects.create()

    def run() -> None:
        if copy():
            try:
                PendingMirrorWrite.objects.filter(pk=pending.pk).delete()
            except DatabaseError:  # the row stays; the audit forces a rebuild: safe
                logger.warning("Could not clear a pending mirror write.")

    transaction.on_commit(run)


def anything_pending() -> bool:
    """Whether any copy may have failed; True when the database cannot say (fail closed)."""
    try:
        return PendingMirrorWrite.objects.exists()
    except DatabaseError:
        return True


def stale(grace: timedelta) -> bool:
    """Whether a row is older than ``grace``: a copy that had its chance and did not clear it.
    False when the database cannot say: the next audit asks again."""
    try:
        return PendingMirrorWrite.objects.filter(created_at__lt=clock.now() - grace).exists()
    except DatabaseError:
        return False


def listed() -> list[int]:
    """The rows now committed: a rebuild that reads the database after this covers them."""
    return list(PendingMirrorWrite.objects.values_list("pk", flat=True))


def retire(rows: Iterable[int]) -> None:
    """Delete rows a warm, rebuilt mirror now holds; on failure they stay (safe)."""
    rows = list(rows)
    try:
        for start in range(0, len(rows), BATCH):
            PendingMirrorWrite.objects.filter(pk__in=rows[start : start + BATCH]).delete()
    except DatabaseError:  # the rows stay; an audit forces another rebuild: safe
        logger.warning("Could not clear pending mirror writes after a rebuild.")
