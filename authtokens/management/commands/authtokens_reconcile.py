"""Catch what no signal reported: deactivations and password changes made with
``QuerySet.update()`` or raw SQL, and never-expiring tokens idle past their limit.

Safe to run from cron, as often as you like, even two at once: it reads in chunks, revokes
each user in a transaction of its own after checking again under the lock every revocation
of that user takes, and a second run finds nothing left to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.crypto import constant_time_compare

from authtokens import credentials, tokens, usage
from authtokens.models import Device, Reason, UserTokenState
from authtokens.revocation import revoke_device, revoke_user

DEFAULT_CHUNK_SIZE = 500


class Command(BaseCommand):
    help = (
        "Revoke every token of users deactivated or given a new password where no signal saw "
        "it (QuerySet.update, raw SQL), and sign out devices whose never-expiring token went "
        "unused past NON_EXPIRING_IDLE_LIMIT. Idempotent; run it from cron (say every 5 "
        "minutes): that period bounds how long such a change goes unnoticed by a view that "
        "never loads the user."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help=f"Devices read per query (default {DEFAULT_CHUNK_SIZE}).",
        )

    def handle(
        self,
        *args: Any,
        dry_run: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        **options: Any,
    ) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        counts: Counter[str] = Counter()
        changed: dict[Any, str] = {}  # user id -> reason, for users found changed
        for device in _chunked(Device.objects.active().select_related("user"), chunk_size):
            counts["checked"] += 1
            if device.user_id in changed:
                continue
            reason = credentials.change_reason(device.credential_digest, device.user)
            if reason is not None:
                changed[device.user_id] = reason
            elif not device.credential_digest:
                counts["recorded"] += 1
                if not dry_run:
                    _record(device, old="")
            elif not constant_time_compare(
                device.credential_digest, credentials.digest(device.user)
            ):  # it matched under a key of SECRET_KEY_FALLBACKS: record it under SECRET_KEY
                counts["rekeyed"] += 1
                if not dry_run:
                    _record(device, old=device.credential_digest)
        for user_id, reason in changed.items():
            done = reason if dry_run else _revoke_if_still_changed(user_id)
            if done is not None:
                counts[done] += 1
        for device in _chunked(usage.idle_devices(tokens.now()), chunk_size):
            if dry_run or revoke_device(device.pk, reason=Reason.IDLE):
                counts["idle"] += 1
        self.stdout.write(_report(counts, dry_run))


def _chunked(queryset: QuerySet[Device], size: int) -> Iterator[Device]:
    """Every row of ``queryset`` by primary key, ``size`` at a time: no long transaction,
    no offset scans, and rows changed by a revocation meanwhile are simply read as they are."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:size])
        yield from rows
        if len(rows) < size:
            return
        last = rows[-1].pk


def _record(device: Device, *, old: str) -> None:
    """Record the device's current credentials, unless another run or a re-issue did."""
    Device.objects.filter(pk=device.pk, credential_digest=old).update(
        credential_digest=credentials.digest(device.user)
    )


def _revoke_if_still_changed(user_id: Any) -> str | None:
    """Revoke every token of the user if one of their devices still shows a change; return
    the reason, or None if nothing is left to revoke (another run, or a save, did it)."""
    with transaction.atomic():
        # revoke_user's lock, taken first as it does: a password change in flight (which keeps
        # and re-records its device) commits before we look, and no deadlock can form.
        UserTokenState.objects.select_for_update().get_or_create(user_id=user_id)
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        if user is None:
            return None
        reasons = {
            credentials.change_reason(device.credential_digest, user)
            for device in Device.objects.active().filter(user_id=user_id)
        } - {None}
        if not reasons:
            return None
        reason = (
            Reason.USER_DEACTIVATED
            if Reason.USER_DEACTIVATED in reasons
            else Reason.PASSWORD_CHANGE
        )
        revoke_user(user, reason=reason)
        return reason


def _report(counts: Counter[str], dry_run: bool) -> str:
    revoke, record, rekey = (
        ("would revoke", "would record", "would re-key")
        if dry_run
        else ("revoked", "recorded", "re-keyed")
    )
    return (
        f"Checked {counts['checked']} device(s); "
        f"{revoke} {counts[Reason.USER_DEACTIVATED]} user(s) deactivated, "
        f"{counts[Reason.PASSWORD_CHANGE]} user(s) whose password changed; "
        f"{revoke} {counts['idle']} idle device(s); "
        f"{record} {counts['recorded']} device(s) without a record; "
        f"{rekey} {counts['rekeyed']} record(s) made under an old SECRET_KEY."
    )
