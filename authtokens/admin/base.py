"""Shared pieces of the staff admin: read-only bases, safe lists, confirmation pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from .. import services
from ..models import Device, Reason

CONFIRM_TEMPLATE = "admin/authtokens/confirm_revocation.html"


def user_search_fields(prefix: str) -> tuple[str, ...]:
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
            "cancel_url": reverse(
                f"{modeladmin.admin_site.name}:{admin_url_name(modeladmin.opts)}"
            ),
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)
    count = sum(1 for obj in objects if revoke(obj))
    modeladmin.message_user(request, done(count), messages.SUCCESS)
    return None


def admin_url_name(opts: Any, view: str = "changelist") -> str:
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


class RevokeButtonMixin:
    """A "Revoke" button on a device's page: a confirmation page, then back with a message.

    Used by the staff's device admin and by the end users' panel, each with its own reason,
    messages and permission.
    """

    revoke_reason: str = Reason.ADMIN
    revoked_message = _("Revoked the device “%(name)s” of %(user)s.")
    already_message = _("The device “%(name)s” of %(user)s was already revoked.")
    # The "revoke the selected devices" action's words (``revoke_selected``).
    revoke_title = _("Revoke these devices?")
    revoked_count = ngettext_lazy(
        "Revoked %(count)d device.", "Revoked %(count)d devices.", "count"
    )
    all_already = _("The selected devices were all already revoked.")
    change_form_template: Any = "admin/authtokens/device/change_form.html"
    admin_site: Any
    opts: Any

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        raise NotImplementedError

    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """The body of a "revoke the selected devices" action: confirm, revoke, report."""
        return confirm_then(
            self,
            request,
            queryset,
            title=self.revoke_title,
            revoke=lambda device: services.revoke_device(
                device, reason=self.revoke_reason, actor=request.user
            ),
            done=lambda count: self.revoked_count % {"count": count},
            already=lambda device: device.revoked_at is not None,
            nothing_left=self.all_already,
        )

    def get_urls(self) -> list[Any]:
        revoke = path(
            "<path:object_id>/revoke/",
            self.admin_site.admin_view(self.revoke_view),
            name=admin_url_name(self.opts, "revoke"),
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
        back = self._back_url(request, device)
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

    def _back_url(self, request: HttpRequest, device: Device) -> str:
        """Where the button's page returns: ``next`` if it stays on this site, else the
        device's page."""
        back = request.POST.get("next", request.GET.get("next", ""))
        if url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return back
        name = f"{self.admin_site.name}:{admin_url_name(self.opts, 'change')}"
        return reverse(name, args=[quote(device.pk)])
