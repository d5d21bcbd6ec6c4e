"""The staff panel: devices, refresh tokens and the audit trail, read-only, with revocations.

Nothing here writes a revocation itself: the actions call ``services``. Nothing can be edited,
so nothing can be un-revoked, and no token material (digests) is ever shown. Devices and their
refresh tokens are never deleted by hand here, but go with their user when staff delete one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import services
from .clients import summarize
from .cookies import keeps_this_device
from .models import Device, DeviceQuerySet, Reason, RefreshToken, RevocationEvent

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
    already: Callable[[Any], bool] = lambda obj: False,
    nothing_left: Any = None,
) -> HttpResponse | None:
    """Show a confirmation page; once confirmed, ``revoke`` each object and report how many.

    Objects ``already`` revoked are named on the page as such and left alone.
    """
    done_before = [obj for obj in queryset if already(obj)]
    objects = [obj for obj in queryset if not already(obj)]
    if not objects and nothing_left is not None:
        modeladmin.message_user(request, nothing_left, messages.WARNING)
        return None
    if request.POST.get("confirm") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": objects,
            "already": done_before,
            "action": request.POST.get("action"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
            "cancel_url": reverse(f"{modeladmin.admin_site.name}:{_url_name(modeladmin.opts)}"),
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)
    count = sum(1 for obj in objects if revoke(obj))
    modeladmin.message_user(request, done(count), messages.SUCCESS)
    return None


def _url_name(opts: Any, view: str = "changelist") -> str:
    return f"{opts.app_label}_{opts.model_name}_{view}"


class SafeChangeListMixin:
    """Odd filter values in a list's URL (a year past 9999, a broken regular expression) take
    the list back to its unfiltered page with Django's "?e=1", as other bad filters do, instead
    of a 500: the query fails only when the list counts its rows."""

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        try:
            return super().get_changelist_instance(request)  # type: ignore[misc]
        except (OverflowError, ValueError, DatabaseError) as error:
            raise IncorrectLookupParameters(error) from error


class ReadOnlyAdmin(SafeChangeListMixin, admin.ModelAdmin):
    """History and state are shown, never edited, added or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeletedWithTheirUserAdmin(ReadOnlyAdmin):
    """Read-only too, and never deleted from its own pages, but deleted along with its user.

    Deleting a user cascades to their devices and refresh tokens, and Django's admin refuses
    the deletion unless each related model's admin grants ``has_delete_permission``. It grants it
    to whoever may delete users; this admin's own delete entry points (the "Delete selected"
    action, the change page's "Delete" link, the delete page) stay closed.
    """

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = get_user_model()._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('delete', opts)}")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "show_delete": False}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        raise PermissionDenied


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


def device_client(device: Device) -> str:
    return summarize(device.user_agent) if device.user_agent else "—"


def device_ip(device: Device) -> str:
    return device.ip_address or "—"


class RevokeButtonMixin:
    """A "Revoke" button on a device's page: a confirmation page, then back with a message.

    Used by the staff's device admin and by the end users' panel, each with its own reason,
    messages and permission.
    """

    revoke_reason: str = Reason.ADMIN
    revoked_message = _("Revoked the device “%(name)s” of %(user)s.")
    already_message = _("The device “%(name)s” of %(user)s was already revoked.")
    change_form_template: Any = "admin/authtokens/device/change_form.html"
    admin_site: Any
    opts: Any

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        raise NotImplementedError

    def get_urls(self) -> list[Any]:
        revoke = path(
            "<path:object_id>/revoke/",
            self.admin_site.admin_view(self.revoke_view),
            name=_url_name(self.opts, "revoke"),
        )
        return [revoke, *super().get_urls()]  # type: ignore[misc]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_revoke": self.has_revoke_permission(request),
        }
        return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One device's "Revoke" button: a confirmation page, then back with a message."""
        device = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if device is None:
            raise Http404
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        back = request.POST.get("next", request.GET.get("next", ""))
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse(
                f"{self.admin_site.name}:{_url_name(self.opts, 'change')}",
                args=[quote(device.pk)],
            )
        names = {"name": device.name, "user": device.user}
        if device.revoked_at is not None:
            messages.warning(request, self.already_message % names)
            return HttpResponseRedirect(back)
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            if services.revoke_device(device, reason=self.revoke_reason, actor=request.user):
                messages.success(request, self.revoked_message % names)
            else:
                messages.warning(request, self.already_message % names)
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Revoke this device?"),
            "objects": [device],
            "already": [],
            "next": back,
            "cancel_url": back,
            "opts": self.opts,
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)


@admin.register(Device)
class DeviceAdmin(RevokeButtonMixin, DeletedWithTheirUserAdmin):
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

    @admin.display(description=_("browser and OS"))
    def client(self, device: Device) -> str:
        return device_client(device)

    @admin.display(description=_("IP address"), ordering="ip_address")
    def ip(self, device: Device) -> str:
        return device_ip(device)

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
            already=lambda device: device.revoked_at is not None,
            nothing_left=_("The selected devices were all already revoked."),
        )


@admin.register(RefreshToken)
class RefreshTokenAdmin(DeletedWithTheirUserAdmin):
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

    @admin.display(description=_("browser and OS"))
    def client(self, device: Device) -> str:
        return device_client(device)

    @admin.display(description=_("IP address"), ordering="ip_address")
    def ip(self, device: Device) -> str:
        return device_ip(device)

    @admin.display(description=_("status"))
    def status(self, device: Device) -> str:
        return device_status(device)

    @admin.display(description=_("revoke"))
    def revoke(self, device: Device) -> str:
        if device.pk is None:
            return ""
        site = self.admin_site.name
        back = reverse(f"{site}:{_url_name(device.user._meta, 'change')}", args=[device.user_id])
        url = reverse(f"{site}:{_url_name(device._meta, 'revoke')}", args=[quote(device.pk)])
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


class SignOutEverywhereMixin(SafeChangeListMixin):
    """A UserAdmin mixin adding the "Sign out everywhere" action (``sign_out_user`` permission).

    It also says, after the user page's "Change password" form, that the user was signed out of
    every device (a new password revokes every token, whoever sets it).
    """

    actions = ["sign_out_everywhere"]

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        user_model = get_user_model()
        before = user_model._default_manager.filter(pk=unquote(id)).first()
        view = super().user_change_password  # type: ignore[misc]
        yourself = before is not None and before.pk == request.user.pk
        if yourself:  # a staff member setting their own password keeps this browser
            view = keeps_this_device(view)
        response = view(request, id, form_url)
        if request.method != "POST" or before is None:
            return response
        after = user_model._default_manager.get(pk=before.pk)
        if after.password == before.password:
            return response
        if yourself:
            message = gettext("Signed you out of every other device; this browser stays.")
        else:
            message = gettext(
                "Signed %(user)s out of every device: their tokens stop working on their next "
                "request."
            )
        messages.success(request, message % {"user": after})
        return response

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
