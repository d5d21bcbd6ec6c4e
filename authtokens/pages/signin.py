"""Signing in and out of a browser: one device per browser, and a sign-in page that knows you."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from .. import limits, services
from ..clients import client_ip
from ..cookies import CookieSession, clear_token_cookie, set_token_cookie
from ..models import Device, Reason
from .errors import method_not_allowed
from .session import MESSAGES, safe_next, sign_in_url, signed_in


class SignInForm(AuthenticationForm):
    device_name = forms.CharField(
        max_length=100,
        required=False,
        label=_("Name this device"),
        help_text=_("So that you can tell your devices apart."),
    )
    locked_for: int | None = None  # seconds, when the failure limits refused the attempt

    def clean(self) -> dict[str, Any]:
        # The failure limits first: a locked-out client costs no password hashing.
        username = self.cleaned_data.get("username")
        if username is not None and self.request is not None:
            self.locked_for = limits.sign_in_wait(self.request, username)
            if self.locked_for is not None:
                raise forms.ValidationError(
                    _("Too many failed attempts. Please try again in %(wait)s."),
                    code="throttled",
                    params={"wait": limits.describe_wait(self.locked_for)},
                )
        return super().clean()


@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    """Show the form (and who is signed in already, if anyone); sign in on a valid POST."""
    current = signed_in(request)
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _sign_in(request, form, current)
    context = {
        "form": form,
        # A failed POST keeps where the visitor was going (it came in the form, not the URL).
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "continue_url": safe_next(request),
        "message": MESSAGES.get(request.GET.get("reason", "")),
        "current_device": _device_of(current),
    }
    status = 200 if form.locked_for is None else 429
    response = render(request, "authtokens/sign_in.html", context, status=status)
    if form.locked_for is not None:
        response["Retry-After"] = str(form.locked_for)
    return response


def _sign_in(request: HttpRequest, form: SignInForm, current: CookieSession | None) -> HttpResponse:
    """Issue a new device; the browser's previous one, if still signed in, is revoked.

    One browser holds one cookie, so a device it replaces could never be used again: left
    alone it would show as "active" in the list until its session maximum.
    """
    user = form.get_user()
    issued = services.issue(
        user,
        device_name=form.cleaned_data["device_name"],
        user_agent=request.headers.get("user-agent", ""),
        ip_address=client_ip(request.META),
    )
    # As django.contrib.auth.login() does (no session here): updates last_login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    replaced = _device_of(current)
    if replaced is not None and current is not None:
        services.revoke_device(replaced, reason=Reason.LOGOUT, actor=current.user)
        text = gettext(
            "You were already signed in on this browser as “%(device)s”; it was signed out."
        )
        messages.info(request, text % {"device": replaced.name}, fail_silently=True)
    redirect = HttpResponseRedirect(safe_next(request))
    set_token_cookie(redirect, issued)
    return redirect


def _device_of(session: CookieSession | None) -> Device | None:
    if session is None or session.claims is None:
        return None
    return Device.objects.filter(pk=session.claims["did"]).first()


@never_cache
def sign_out(request: HttpRequest) -> HttpResponse:
    """POST signs this browser out; GET (from the address bar) asks first."""
    session = signed_in(request)
    if request.method == "GET":
        if session is None:
            return HttpResponseRedirect(sign_in_url("signed_out"))
        return render(request, "authtokens/sign_out.html", {"device": _device_of(session)})
    if request.method != "POST":
        return method_not_allowed(request, ["GET", "POST"])
    if session is not None and session.claims is not None:
        services.logout(session.claims, actor=session.user)
    response = HttpResponseRedirect(sign_in_url("signed_out"))
    clear_token_cookie(response)
    return response
