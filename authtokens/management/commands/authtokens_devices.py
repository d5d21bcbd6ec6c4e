"""List a user's devices."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from authtokens.admin import device_status
from authtokens.models import Device


class Command(BaseCommand):
    help = "List the devices of one user, newest use first."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", help="The user's username (USERNAME_FIELD).")
        parser.add_argument("--active", action="store_true", help="Only devices not revoked.")

    def handle(self, *args: Any, username: str, active: bool = False, **options: Any) -> None:
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        devices = Device.objects.filter(user=user)
        if active:
            devices = devices.active()
        for device in devices:
            self.stdout.write(
                f"{device.pk}  {device.name}  {device.get_kind_display()}  {device.audience}  "
                f"last used {device.last_used_at:%Y-%m-%d %H:%M}  {device_status(device)}"
            )
        self.stdout.write(f"{len(devices)} device(s).")
