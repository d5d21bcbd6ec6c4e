"""Rebuild the Redis revocation mirror from the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from authtokens.store import get_store


class Command(BaseCommand):
    help = "Copy every live revocation from the database into Redis and mark the mirror warm."

    def handle(self, *args: Any, **options: Any) -> None:
        store = get_store()
        if not store.mirrors:
            raise CommandError("The configured REVOCATION_STORE mirrors nothing to rebuild.")
        count = store.rebuild()
        if count is None:
            raise CommandError("The mirror is unreachable, or being rebuilt elsewhere; retry.")
        self.stdout.write(f"Mirrored {count} revocations.")
