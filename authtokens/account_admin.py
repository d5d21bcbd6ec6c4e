"""The end users' panel: any signed-in user's own devices and sign-out history, nothing else.

Built on ``django.contrib.admin`` (a second site, ``account_site``) so that it looks and
behaves like the admin people know: list, filters, search, actions with confirmation. Every
queryset is filtered by ``request.user``, and an id that is not the user's answers 404, as a
missing one does. The actions call the same ``services`` functions as the site's "Your
devices" page. Mount it with ``path("account/", account_site.urls)``.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from . import services
from .admin.base import (
    CONFIRM_TEMPLATE,
    RevokeButtonMixin,
    SafeChangeListMixin,
    admin_url_name,
)
from .admin.devices import (
    DeviceColumns,
    DeviceStatusFilter,
)
from .cookies import cookie_session, set_token_cookie
from .models import Device, DeviceQuerySet, Reason, RevocationEvent
from .sites import AccountSite

account_site = AccountSite(name="account")


def _current_device_id(request: HttpRequest) -> str | None:
    session = cookie_session(request)
    return session.claims["did"] if session is not None and session.claims else None


class OwnObjectsAdmin(SafeChangeListMixin, admin.ModelAdmin):
    """Only the signed-in user's rows; anyone else's id is a 404, like an id that never was."""

    owner_field = "user"

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        """Only the filters on the page: Django would take any lookup on the model's own fields
        from the URL (``?actor=2`` would tell which staff account acted, by its id)."""
        shown = (name for name in self.list_filter if isinstance(name, str))
        return lookup in {variant for name in shown for variant in (name, f"{name}__exact")}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(**{f"{self.owner_field}_id": request.user.pk})

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:  # Django would redirect to the index saying "perhaps it was deleted"
            raise Http404
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return True  # the site admits only active, signed-in users; the queryset does the rest

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Device, site=account_site)
class OwnDeviceAdmin(RevokeButtonMixin, DeviceColumns, OwnObjectsAdmin):
    list_display = ("name", "client", "ip", "signed_in", "last_used", "status", "this_device")
    list_filter = (DeviceStatusFilter, "kind")
    search_fields = ("name",)
    actions = ["revoke_devices"]
    fields = ("name", "kind", "client", "ip", "signed_in", "last_used", "status")
    readonly_fields = ("kind", "client", "ip", "signed_in", "last_used", "status")
    change_list_template = "admin/authtokens/account/device_change_list.html"
    revoke_reason = Reason.USER
    revoked_message = _("Signed out “%(name)s”.")
    already_message = _("“%(name)s” was already signed out.")
    revoke_title = _("Sign out these devices?")
    revoked_count = ngettext_lazy(
        "Signed out %(count)d device.", "Signed out %(count)d devices.", "count"
    )
    all_already = _("The selected devices were all already signed out.")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        current = When(pk=_current_device_id(request), then=Value(True))
        is_current = Case(current, default=Value(False), output_field=BooleanField())
        return super().get_queryset(request).annotate(is_current=is_current)

    @admin.display(description=_("signed in"), ordering="created_at")
    def signed_in(self, device: Device) -> Any:
        return device.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, device: Device) -> Any:
        return device.last_used_at

    @admin.display(description=_("this device"), ordering="is_current")
    def this_device(self, device: Device) -> str:
        return gettext("✔ This device") if getattr(device, "is_current", False) else ""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.revoked_at is None  # rename a device while it is signed in

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return True

    def save_model(self, request: HttpRequest, obj: Device, form: Any, change: bool) -> None:
        services.rename_device(obj, form.cleaned_data["name"])  # the name is all that changes

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {"title": gettext("Your devices"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Sign out the selected devices"))
    def revoke_devices(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.revoke_selected(request, queryset)

    def get_urls(self) -> list[Any]:
        others = path(
            "logout-others/",
            self.admin_site.admin_view(self.logout_others_view),
            name=admin_url_name(self.opts, "logout_others"),
        )
        return [others, *super().get_urls()]

    def logout_others_view(self, request: HttpRequest) -> HttpResponse:
        """ "Sign out everywhere else": a confirmation page, then every other device is out."""
        request.current_app = self.admin_site.name
        session = cookie_session(request)
        if session is None or session.claims is None:
            raise Http404  # the site lets in only cookie sessions; nothing to keep otherwise
        others = (
            cast(DeviceQuerySet, self.get_queryset(request))
            .active()
            .exclude(pk=session.claims["did"])
        )
        back = reverse(f"{self.admin_site.name}:{admin_url_name(self.opts)}")
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            count = others.count()
            response = HttpResponseRedirect(back)
            set_token_cookie(response, services.logout_others(request.user, claims=session.claims))
            message = ngettext(
                "Signed out %(count)d other device.", "Signed out %(count)d other devices.", count
            )
            messages.success(request, message % {"count": count})
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Sign out every other device?"),
            "objects": list(others),
            "already": [],
            "cancel_url": back,
            "opts": self.opts,
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)


@admin.register(RevocationEvent, site=account_site)
class OwnRevocationEventAdmin(OwnObjectsAdmin):
    """Who signed which of the user's devices out, why and when."""

    list_display = ("when", "what", "reason", "who")
    list_filter = ("reason", "level")
    list_select_related = ("device",)
    fields = ("when", "what", "reason", "who")
    readonly_fields = fields

    @admin.display(description=_("when"), ordering="created_at")
    def when(self, event: RevocationEvent) -> Any:
        return event.created_at

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("what"))
    def what(self, event: RevocationEvent) -> str:
        if event.level == RevocationEvent.Level.USER:
            return gettext("Every device")
        if event.device_id is None:
            return gettext("A deleted device")
        if event.level == RevocationEvent.Level.TOKEN:
            return gettext("One token of “%(name)s”") % {"name": event.device}
        return str(event.device)

    @admin.display(description=_("by"))
    def who(self, event: RevocationEvent) -> str:
        if event.actor_id is None:
            return gettext("Automatically")
        if event.actor_id == event.user_id:
            return gettext("You")
        return gettext("An administrator")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {"title": gettext("Your sign-out history"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)
