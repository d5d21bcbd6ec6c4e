"""The user admin's "Sign out everywhere" action and password message (a mixin)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import services
from ..cookies import keeps_this_device
from ..models import Reason
from .base import SafeChangeListMixin, confirm_then


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
