"""Devices, refresh tokens and revocation records: the source of truth for every revocation."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import clock
from .conf import app_settings


class Reason(models.TextChoices):
    LOGOUT = "logout", _("Signed out")
    LOGOUT_ALL = "logout_all", _("Signed out everywhere")
    USER = "user", _("Revoked by the user")
    TOKEN = "token", _("Token revoked (RFC 7009)")
    PASSWORD_CHANGE = "password_change", _("Password changed")
    ADMIN = "admin", _("Revoked by staff")
    REUSE_DETECTED = "reuse_detected", _("Refresh token reuse detected")
    USER_DEACTIVATED = "user_deactivated", _("User deactivated")
    IDLE = "idle", _("Unused for too long")


def still_accepted() -> Q:
    """Rows whose token ``decode`` would still accept: no expiry, or ``exp`` within the leeway.

    Decode accepts a token until ``exp + LEEWAY``, so everything a mirror must hold, and every
    row a prune may not delete yet, is measured against ``now - LEEWAY``, not ``now``.
    """
    return Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now() - app_settings.LEEWAY)


class DeviceQuerySet(models.QuerySet["Device"]):
    def active(self) -> DeviceQuerySet:
        """Devices not revoked that may still hold a valid token."""
        live = Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now())
        return self.filter(live, revoked_at__isnull=True)

    def mirrored(self) -> DeviceQuerySet:
        """Every device, revoked or not, whose tokens decode may still accept: what Redis holds."""
        return self.filter(still_accepted())


class Device(models.Model):
    """One signed-in client ("Frank's iPhone", a browser): every token carries its id."""

    class Kind(models.TextChoices):
        WEB = "web", _("Browser")
        NATIVE = "native", _("App")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authtokens_devices"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    audience = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=256, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    last_used_at = models.DateTimeField(default=clock.now)
    # The latest expiry of any token issued to the device; null: some token never expires.
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    # A keyed digest of the user's credentials (password hash, is_active) its tokens were
    # issued under; ``authtokens_reconcile`` compares it to catch changes no signal reported.
    credential_digest = models.CharField(max_length=64, blank=True, editable=False)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["-last_used_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]
        permissions = [
            ("revoke_device", "Can revoke devices"),
            ("sign_out_user", "Can sign users out of every device"),
        ]

    def __str__(self) -> str:
        return self.name


class RefreshToken(models.Model):
    """One refresh token, stored only as a keyed digest of its ``jti``: a dump yields no token."""

    digest = models.CharField(max_length=64, unique=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="refresh_tokens")
    issued_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )
    # A keyed digest of the user's password hash at issue: a password changed where no signal
    # fires (QuerySet.update) still ends the refresh token. Never the hash itself.
    password_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"Refresh token {self.pk} of {self.device_id}"


class UserTokenState(models.Model):
    """A user's token generation: tokens minted under an older one are revoked, in O(1)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="authtokens_state",
    )
    # A counter, not a timestamp: two revocations within one second stay ordered.
    generation = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Token generation {self.generation} of user {self.user_id}"


class RevokedAccessTokenQuerySet(models.QuerySet["RevokedAccessToken"]):
    def live(self) -> RevokedAccessTokenQuerySet:
        """Entries whose token would otherwise still be accepted: what Redis must mirror."""
        return self.filter(still_accepted())


class RevokedAccessToken(models.Model):
    """One revoked access token, by ``jti``; prunable once the token has expired."""

    jti = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_at = models.DateTimeField(default=clock.now)
    reason = models.CharField(max_length=32, choices=Reason.choices)

    objects = RevokedAccessTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Revoked token of user {self.user_id}"


class DeletedDevice(models.Model):
    """A tombstone: a deleted device's tokens stay revoked after Redis loses its copy."""

    device_id = models.UUIDField(primary_key=True)
    # Its owner's id, which places the tombstone in their group of a clustered mirror. A user's
    # id as text, not a foreign key: the user may be the very row being deleted. Blank only
    # for tombstones written before 0.2.
    user_id = models.CharField(max_length=255, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deleted_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"Deleted device {self.device_id}"


class PendingMirrorWrite(models.Model):
    """Written with each revocation, deleted once Redis holds it (a transactional outbox).

    A row that outlives its commit by more than a moment means a mirror write failed or its
    process died: the next process to audit the mirror drops Redis's warm marker, forcing a
    rebuild from the database.
    """

    created_at = models.DateTimeField(default=clock.now, db_index=True)
    # Whose revocation it is: on a cluster only that user's group stops being trusted. Blank:
    # unknown (rows written before 0.2), which distrusts every group.
    user_id = models.CharField(max_length=255, blank=True, default="")

    def __str__(self) -> str:
        return f"Pending mirror write {self.pk}"


class RevocationEvent(models.Model):
    """Audit trail: who revoked whose tokens, at which level, why and when."""

    class Level(models.TextChoices):
        TOKEN = "token", _("One token")
        DEVICE = "device", _("One device")
        USER = "user", _("All of a user's tokens")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_level_display()} revoked ({self.reason})"
