"""Delete revocation rows and refresh tokens that can no longer matter."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from authtokens import clock
from authtokens.conf import app_settings
from authtokens.models import RefreshToken, RevokedAccessToken


class Command(BaseCommand):
    help = (
        "Delete revoked-access-token rows and refresh tokens whose expiry (plus the leeway) "
        "has passed: their tokens fail on exp already."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        cutoff = clock.now() - app_settings.LEEWAY
        revoked = RevokedAccessToken.objects.filter(expires_at__lte=cutoff)
        refresh = RefreshToken.objects.filter(expires_at__lte=cutoff)
        with transaction.atomic():
            counts = (revoked.count(), refresh.count())
            if not dry_run:
                # Rows that a live token still points to (replaced_by) are only nulled out.
                revoked.delete()
                refresh.delete()
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(
            f"{verb} {counts[0]} revoked access token(s) and {counts[1]} refresh token(s)."
        )
