"""Admin sites whose session is the token cookie: the staff admin and the end users' panel.

Both sign people in through the app's own throttled sign-in page (the login page redirects
there), so a browser has one session for the site, the staff admin and the panel: one device,
listed, revocable, and ended by logout-all, a password change or reset, or deactivation like
any other. Use them with ``authtokens.middleware.TokenUserMiddleware`` in place of Django's
``AuthenticationMiddleware`` (README, "One browser session").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from .cookies import keeps_this_device
from .limits import limit_password_change


class TokenSessionSite(admin.AdminSite):
    """An ``AdminSite`` signed in to with the token cookie (see the module's docstring)."""

    no_access_template = "admin/authtokens/no_access.html"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Send visitors to the app's sign-in page and back; tell a signed-in user who may not
        enter this site so (403), rather than offering a second sign-in form."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse(f"{self.name}:index", current_app=self.name)
        if not request.user.is_authenticated:
            query = urlencode({"next": next_url})
            return HttpResponseRedirect(f"{reverse('authtokens:sign-in')}?{query}")
        if self.has_permission(request):
            return HttpResponseRedirect(next_url)
        context = {**self.each_context(request), "title": _("No access"), **(extra_context or {})}
        request.current_app = self.name
        return TemplateResponse(request, self.no_access_template, context, status=403)

    def get_urls(self) -> list[Any]:
        """Django's URLs, with "view on site" answering 404, not 500, for an id that is no
        key of its model (``r/<content type>/not-a-uuid/``)."""
        urls = super().get_urls()
        return [self._safe_view_on_site() if _is_view_on_site(url) else url for url in urls]

    def _safe_view_on_site(self) -> Any:
        def view_on_site(request: HttpRequest, content_type_id: Any, object_id: Any) -> Any:
            try:
                return shortcut(request, content_type_id, object_id)
            except (ValidationError, ValueError, OverflowError):
                raise Http404 from None

        return path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(view_on_site),
            name="view_on_site",
        )

    def password_change(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        """Django's form, with the failure limits on the old password, and this browser kept
        signed in while every other device of the user is signed out."""
        view = limit_password_change(keeps_this_device(super().password_change))
        return view(request, extra_context)


class StaffAdminSite(TokenSessionSite):
    """The staff admin (``/admin/``): active staff, as Django's own site."""


class AccountSite(TokenSessionSite):
    """The end users' panel: any active user enters, and sees only their own devices and
    sign-out history (``authtokens.account_admin`` registers exactly those two)."""

    site_header = _("Your account")
    site_title = _("Your account")
    index_title = _("Your devices and sign-outs")
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_authenticated)

    def get_urls(self) -> list[Any]:
        """No "view on site" shortcut: no model here has a page on the site, and the shortcut
        would tell apart someone else's object from a missing one."""
        return [url for url in super().get_urls() if not _is_view_on_site(url)]


def _is_view_on_site(url: Any) -> bool:
    return getattr(url, "name", None) == "view_on_site"
