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
from typing import Any

from django.db import DatabaseError, transaction

from .. import clock
from ..models import PendingMirrorWrite

logger = logging.getLogger("authtokens.store")

BATCH = 1000


def copy_on_commit(copy: Callable[[], bool], user_id: Any = "") -> None:
    """Run ``copy`` after the current transaction commits, with an outbox row committed in
    it; the row goes once ``copy`` returns True, and stays (for the audit) otherwise. The row
    names whose revocation it is, so that a clustered mirror distrusts only their group."""
    pending = PendingMirrorWrite.objects.create(user_id=str(user_id or ""))

    def run() -> None:
        if copy():
            try:
                PendingMirrorWrite.objects.filter(pk=pending.pk).delete()
            except DatabaseError:  # the row stays; the audit forces a rebuild: safe
                logger.warning("Could not clear a pending mirror write.")

    transaction.on_commit(run)


EVERYONE = None  # what a row that names no user (written before 0.2) concerns


def pending_users() -> set[str | None]:
    """Whose copies may have failed (``EVERYONE`` for a row naming nobody); ``{EVERYONE}`` when
    the database cannot say (fail closed)."""
    try:
        return _users(PendingMirrorWrite.objects.all())
    except DatabaseError:
        return {EVERYONE}


def stale(grace: timedelta) -> set[str | None]:
    """Whose rows are older than ``grace``: copies that had their chance and did not clear
    them. Empty when the database cannot say: the next audit asks again."""
    try:
        return _users(PendingMirrorWrite.objects.filter(created_at__lt=clock.now() - grace))
    except DatabaseError:
        return set()


def _users(rows: Any) -> set[str | None]:
    return {user or EVERYONE for user in rows.values_list("user_id", flat=True).distinct()}


def listed() -> list[tuple[int, str | None]]:
    """The rows now committed, and whose: a rebuild that reads the database after this covers
    them."""
    rows = PendingMirrorWrite.objects.values_list("pk", "user_id")
    return [(pk, user or EVERYONE) for pk, user in rows]


def retire(rows: Iterable[int]) -> None:
    """Delete rows a warm, rebuilt mirror now holds; on failure they stay (safe)."""
    rows = list(rows)
    try:
        for start in range(0, len(rows), BATCH):
            PendingMirrorWrite.objects.filter(pk__in=rows[start : start + BATCH]).delete()
    except DatabaseError:  # the rows stay; an audit forces another rebuild: safe
        logger.warning("Could not clear pending mirror writes after a rebuild.")
