"""The staff panel: devices, refresh tokens and the audit trail, read-only, with revocations.

Nothing here writes a revocation itself: the actions call ``services``. Nothing can be edited,
so nothing can be un-revoked, and no token material (digests) is ever shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Device, Reason, RefreshToken, RevocationEvent

CONFIRM_TEMPLATE = "admin/authtokens/confirm_revocation.html"


def _user_search_fields(prefix: str) -> tuple[str, ...]:
    user_model = get_user_model()
    fields = [f"{prefix}{user_model.USERNAME_FIELD}"]
    if "email" in {field.name for field in user_model._meta.get_fields()}:
        fields.append(f"{prefix}email")
    return tuple(fields)


def confirm_then(
    modeladmin: Any,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    title: Any,
    revoke: Any,
    done: Callable[[int], str],
) -> HttpResponse | None:
    """Show a confirmation page; once confirmed, ``revoke`` each object and report how many."""
    if request.POST.get("confirm") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": queryset,
            "action": request.POST.get("action"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)
    count = sum(1 for obj in queryset if revoke(obj))
    modeladmin.message_user(request, done(count), messages.SUCCESS)
    return None


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and state are shown, never edited, added or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=timezone.now())
        return queryset


def device_status(device: Device) -> str:
    if device.revoked_at is not None:
        return gettext("Revoked (%(reason)s)") % {"reason": device.get_revoked_reason_display()}
    if device.expires_at is not None and device.expires_at <= timezone.now():
        return gettext("Expired")
    return gettext("Active")


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "kind", "audience", "created_at", "last_used_at", "status")
    list_filter = (DeviceStatusFilter, "kind", "audience", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", *_user_search_fields("user__"))
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

    @admin.display(description=_("status"))
    def status(self, device: Device) -> str:
        return device_status(device)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("authtokens.revoke_device")

    @admin.action(description=_("Revoke selected devices"), permissions=["revoke"])
    def revoke_devices(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return confirm_then(
            self,
            request,
            queryset.select_related("user"),
            title=_("Revoke these devices?"),
            revoke=lambda device: services.revoke_device(
                device, reason=Reason.ADMIN, actor=request.user
            ),
            done=lambda count: (
                ngettext("Revoked %(count)d device.", "Revoked %(count)d devices.", count)
                % {"count": count}
            ),
        )


@admin.register(RefreshToken)
class RefreshTokenAdmin(ReadOnlyAdmin):
    list_display = ("id", "device", "issued_at", "expires_at", "rotated_at")
    list_filter = ("issued_at", "expires_at", "rotated_at", "device__audience")
    list_select_related = ("device",)
    search_fields = ("device__name", *_user_search_fields("device__user__"))
    fields = ("device", "issued_at", "expires_at", "rotated_at", "replaced_by")  # no digests


@admin.register(RevocationEvent)
class RevocationEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "level", "reason", "user", "device", "actor_display")
    list_filter = ("level", "reason", "created_at")
    list_select_related = ("user", "device", "actor")
    search_fields = (*_user_search_fields("user__"), "device__name")
    date_hierarchy = "created_at"

    @admin.display(description=_("actor"))
    def actor_display(self, event: RevocationEvent) -> str:
        return str(event.actor) if event.actor_id else gettext("system")


class DeviceInline(admin.TabularInline):
    """A user's devices on their change page (add it to your UserAdmin's ``inlines``)."""

    model = Device
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("name", "kind", "audience", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SignOutEverywhereMixin:
    """A UserAdmin mixin adding the "Sign out everywhere" action (``sign_out_user`` permission)."""

    actions = ["sign_out_everywhere"]

    def has_sign_out_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("authtokens.sign_out_user")

    @admin.action(description=_("Sign selected users out everywhere"), permissions=["sign_out"])
    def sign_out_everywhere(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return confirm_then(
            self,
            request,
            queryset,
            title=_("Sign these users out of every device?"),
            revoke=lambda user: services.revoke_user(user, reason=Reason.ADMIN, actor=request.user),
            done=lambda count: (
                ngettext(
                    "Signed %(count)d user out everywhere.",
                    "Signed %(count)d users out everywhere.",
                    count,
                )
                % {"count": count}
            ),
        )
