"""Devices in the staff admin: the list, a device's page with its Revoke button, the inline."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import clock
from ..clients import summarize
from ..models import Device, DeviceQuerySet
from .base import (
    DeletedWithTheirUserAdmin,
    RevokeButtonMixin,
    admin_url_name,
    user_search_fields,
)


class DeviceStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("active", _("Active")), ("revoked", _("Revoked")), ("expired", _("Expired"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> QuerySet:
        if self.value() == "active":
            return queryset.active()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=clock.now())
        return queryset


def device_status(device: Device) -> str:
    if device.revoked_at is not None:
        return gettext("Revoked (%(reason)s)") % {"reason": device.get_revoked_reason_display()}
    if device.expires_at is not None and device.expires_at <= clock.now():
        return gettext("Expired")
    return gettext("Active")


def device_client(device: Device) -> str:
    return summarize(device.user_agent) if device.user_agent else "—"


def device_ip(device: Device) -> str:
    return device.ip_address or "—"


class DeviceColumns:
    """The computed columns every device list shows: the staff list, the user page's inline
    and the end users' panel."""

    @admin.display(description=_("status"))
    def status(self, device: Device) -> str:
        return device_status(device)

    @admin.display(description=_("browser and OS"))
    def client(self, device: Device) -> str:
        return device_client(device)

    @admin.display(description=_("IP address"), ordering="ip_address")
    def ip(self, device: Device) -> str:
        return device_ip(device)


@admin.register(Device)
class DeviceAdmin(RevokeButtonMixin, DeviceColumns, DeletedWithTheirUserAdmin):
    list_display = (
        "name",
        "user",
        "kind",
        "audience",
        "client",
        "ip",
        "created_at",
        "last_used_at",
        "status",
    )
    list_filter = (DeviceStatusFilter, "kind", "audience", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", *user_search_fields("user__"))
    date_hierarchy = "last_used_at"
    actions = ["revoke_devices"]
    fields = (
        "user",
        "name",
        "kind",
        "audience",
        "user_agent",
        "ip_address",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    )

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("authtokens.revoke_device")

    @admin.action(description=_("Revoke selected devices"), permissions=["revoke"])
    def revoke_devices(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.revoke_selected(request, queryset.select_related("user"))


class DeviceInline(DeviceColumns, admin.TabularInline):
    """A user's signed-in devices on their change page (add it to your UserAdmin's ``inlines``).

    Only live devices (neither revoked nor expired), each with a "Revoke" link for staff with
    ``authtokens.revoke_device``; the devices list, filtered by user, has the whole history.
    """

    model = Device
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("signed-in device")
    verbose_name_plural = _("signed-in devices")
    fields = (
        "name",
        "kind",
        "audience",
        "client",
        "ip",
        "created_at",
        "last_used_at",
        "status",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return cast(DeviceQuerySet, super().get_queryset(request)).active()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(self.fields)
        if request.user.has_perm("authtokens.revoke_device"):
            fields.append("revoke")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    @admin.display(description=_("revoke"))
    def revoke(self, device: Device) -> str:
        if device.pk is None:
            return ""
        site = self.admin_site.name
        back = reverse(
            f"{site}:{admin_url_name(device.user._meta, 'change')}", args=[device.user_id]
        )
        url = reverse(f"{site}:{admin_url_name(device._meta, 'revoke')}", args=[quote(device.pk)])
        return format_html(
            '<a href="{}?{}" class="revoke-device">{}</a>',
            url,
            urlencode({"next": back}),
            gettext("Revoke…"),
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
