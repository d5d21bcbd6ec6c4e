"""Server-rendered pages for browsers: sign in, sign out, home and "Your devices".

Pages authenticate with the token cookie (``cookies.py``); every form posts with Django's CSRF
token. A visitor whose token is missing, expired or revoked is sent to sign in with a message
that says why, never shown a bare 401.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import limits, services
from .clients import client_ip, summarize
from .cookies import (
    CookieSession,
    acookie_session,
    clear_token_cookie,
    cookie_session,
    set_token_cookie,
)
from .exceptions import SessionExpired, TokenExpired, TokenRevoked
from .models import Device, Reason

MESSAGES = {
    "expired": _("Your session expired. Please sign in again."),
    "revoked": _("You were signed out: this device was signed out elsewhere."),
    "signed_out": _("You have signed out."),
    "required": _("Please sign in to continue."),
}

DONE_MESSAGES = {
    "revoked_one": _("The device was signed out."),
    "revoked_others": _("Every other device was signed out."),
}


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


def _sign_in_url(reason: str, next_url: str = "") -> str:
    query = {"reason": reason, **({"next": next_url} if next_url else {})}
    return f"{reverse('authtokens:sign-in')}?{urlencode(query)}"


def token_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``view`` with ``request.token_claims`` and ``request.token_user``, or redirect.

    Works on ``async def`` views too (under ASGI): the cookie is then checked in a thread,
    and ``request.token_user`` arrives loaded, so the view reads it without a query.
    """
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            session = await acookie_session(request)
            refusal = _admit(request, session)
            return refusal if refusal is not None else await view(request, *args, **kwargs)

        return async_wrapper

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = _admit(request, cookie_session(request))
        return refusal if refusal is not None else view(request, *args, **kwargs)

    return wrapper


def _admit(request: HttpRequest, session: CookieSession | None) -> HttpResponse | None:
    """Attach the session's claims and user to ``request``, or return the redirect to sign in."""
    if session is None or session.claims is None:
        reason = "required" if session is None else _reason_for(session.error)
        return HttpResponseRedirect(_sign_in_url(reason, request.get_full_path()))
    request.token_claims, request.token_user = session.claims, session.user  # type: ignore[attr-defined]
    return None


def _reason_for(error: Any) -> str:
    if isinstance(error, TokenExpired | SessionExpired):
        return "expired"
    return "revoked" if isinstance(error, TokenRevoked) else "required"


def _safe_next(request: HttpRequest) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if allowed else reverse("authtokens:home")


def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        issued = services.issue(
            user,
            device_name=form.cleaned_data["device_name"],
            user_agent=request.headers.get("user-agent", ""),
            ip_address=client_ip(request.META),
        )
        # As django.contrib.auth.login() does (no session here): updates last_login.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        redirect = HttpResponseRedirect(_safe_next(request))
        set_token_cookie(redirect, issued)
        return redirect
    context = {
        "form": form,
        "next": request.GET.get("next", ""),
        "message": MESSAGES.get(request.GET.get("reason", "")),
    }
    if form.locked_for is None:
        return render(request, "authtokens/sign_in.html", context)
    response = render(request, "authtokens/sign_in.html", context, status=429)
    response["Retry-After"] = str(form.locked_for)
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    session = cookie_session(request)
    if session is not None and session.claims is not None:
        services.logout(session.claims, actor=session.user)
    response = HttpResponseRedirect(_sign_in_url("signed_out"))
    clear_token_cookie(response)
    return response


@token_login_required
def home(request: HttpRequest) -> HttpResponse:
    device = Device.objects.filter(pk=request.token_claims["did"]).first()  # type: ignore[attr-defined]
    return render(request, "authtokens/home.html", {"device": device})


@token_login_required
def devices(request: HttpRequest) -> HttpResponse:
    current = request.token_claims["did"]  # type: ignore[attr-defined]
    rows = [
        SimpleNamespace(
            device=device, current=str(device.pk) == current, browser=summarize(device.user_agent)
        )
        for device in Device.objects.filter(user_id=request.token_user.pk).active()  # type: ignore[attr-defined]
    ]
    notice = DONE_MESSAGES.get(request.GET.get("done", ""))
    return render(request, "authtokens/devices.html", {"rows": rows, "notice": notice})


@require_POST
@token_login_required
def revoke_device(request: HttpRequest, device_id: Any) -> HttpResponse:
    user = request.token_user  # type: ignore[attr-defined]
    device = get_object_or_404(Device.objects.filter(user_id=user.pk).active(), pk=device_id)
    services.revoke_device(device, reason=Reason.USER, actor=user)
    if str(device.pk) == request.token_claims["did"]:  # type: ignore[attr-defined]
        response = HttpResponseRedirect(_sign_in_url("signed_out"))
        clear_token_cookie(response)
        return response
    return HttpResponseRedirect(f"{reverse('authtokens:devices')}?done=revoked_one")


@require_POST
@token_login_required
def logout_others(request: HttpRequest) -> HttpResponse:
    issued = services.logout_others(request.token_user, claims=request.token_claims)  # type: ignore[attr-defined]
    response = HttpResponseRedirect(f"{reverse('authtokens:devices')}?done=revoked_others")
    set_token_cookie(response, issued)
    return response
