"""Password change for a signed-in browser, and Django's password reset in the site's style."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext

from .. import limits, services
from ..cookies import clear_token_cookie, set_token_cookie
from .errors import error_page
from .session import sign_in_url, token_login_required


@token_login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change the password with the old one; every other device is signed out.

    A wrong old password counts as a failed sign-in of this user (``user_login_failed``, as
    ``limits.limit_password_change`` does for Django's own form), and while the user is locked
    out the page answers 429 before checking anything.
    """
    user = request.token_user  # type: ignore[attr-defined]
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST":
        wait = limits.sign_in_wait(request, user.get_username())
        if wait is not None:
            detail = gettext("Too many failed attempts. Please try again in %(wait)s.")
            response = error_page(request, 429, detail % {"wait": limits.describe_wait(wait)})
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            return _changed(request, form.cleaned_data["new_password1"])
        if "old_password" in form.errors:
            credentials = {"username": user.get_username()}
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return render(request, "authtokens/password_change.html", {"form": form})


def _changed(request: HttpRequest, new_password: str) -> HttpResponse:
    issued = services.change_password(
        request.token_user,  # type: ignore[attr-defined]
        new_password,
        claims=request.token_claims,  # type: ignore[attr-defined]
    )
    if issued is None:  # KEEP_DEVICE_ON_PASSWORD_CHANGE is off: this device went too
        response = HttpResponseRedirect(sign_in_url("password_changed"))
        clear_token_cookie(response)
        return response
    text = gettext("Your password was changed. Every other device was signed out.")
    messages.success(request, text, fail_silently=True)
    response = HttpResponseRedirect(reverse("authtokens:devices"))
    set_token_cookie(response, issued)
    return response


# Django's reset views, with the app's templates and URL names. A reset saves the user, and the
# user's pre_save receiver revokes every device (reason: password change).
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "authtokens/password_reset_form.html"
    email_template_name = "authtokens/password_reset_email.txt"
    subject_template_name = "authtokens/password_reset_subject.txt"
    success_url = reverse_lazy("authtokens:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "authtokens/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "authtokens/password_reset_confirm.html"
    success_url = reverse_lazy("authtokens:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "authtokens/password_reset_complete.html"
