"""Create (or reset) the demo user that `make run` prints."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "demo"
PASSWORD = "demo-password-123"  # noqa: S105  a development-only account


class Command(BaseCommand):
    help = "Create or reset the demo user (development only)."

    def handle(self, *args: object, **options: object) -> None:
        user, _ = get_user_model().objects.get_or_create(username=USERNAME)
        user.set_password(PASSWORD)
        user.save()
        self.stdout.write(f"Demo user: username={USERNAME} password={PASSWORD}")
