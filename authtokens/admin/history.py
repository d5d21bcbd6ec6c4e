"""Refresh tokens and the audit trail in the staff admin, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import RefreshToken, RevocationEvent
from .base import DeletedWithTheirUserAdmin, ReadOnlyAdmin, user_search_fields


@admin.register(RefreshToken)
class RefreshTokenAdmin(DeletedWithTheirUserAdmin):
    list_display = ("id", "device", "issued_at", "expires_at", "rotated_at")
    list_filter = ("issued_at", "expires_at", "rotated_at", "device__audience")
    list_select_related = ("device",)
    search_fields = ("device__name", *user_search_fields("device__user__"))
    fields = ("device", "issued_at", "expires_at", "rotated_at", "replaced_by")  # no digests


@admin.register(RevocationEvent)
class RevocationEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "level", "reason", "user", "device", "actor_display")
    list_filter = ("level", "reason", "created_at")
    list_select_related = ("user", "device", "actor")
    search_fields = (*user_search_fields("user__"), "device__name")
    date_hierarchy = "created_at"

    @admin.display(description=_("actor"))
    def actor_display(self, event: RevocationEvent) -> str:
        return str(event.actor) if event.actor_id else gettext("system")
