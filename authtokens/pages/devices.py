"""Home and "Your devices": rename a device, sign one out or every other one, after asking."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import clock, services
from ..clients import describe
from ..cookies import clear_token_cookie, set_token_cookie
from ..models import Device, Reason
from .errors import post_only
from .session import sign_in_url, token_login_required


class RenameForm(forms.Form):
    name = forms.CharField(max_length=services.DEVICE_NAME_MAX_LENGTH, label=_("New name"))


@token_login_required
def home(request: HttpRequest) -> HttpResponse:
    device = Device.objects.filter(pk=request.token_claims["did"]).first()  # type: ignore[attr-defined]
    return render(request, "authtokens/home.html", {"device": device})


@token_login_required
def devices(request: HttpRequest) -> HttpResponse:
    current = request.token_claims["did"]  # type: ignore[attr-defined]
    rows = [_row(device, current) for device in _own_devices(request).order_by("-last_used_at")]
    rows.sort(key=lambda row: not row.current)  # this device first, as GitHub's list does
    return render(request, "authtokens/devices.html", {"rows": rows})


def _row(device: Device, current: str) -> SimpleNamespace:
    client = describe(device.user_agent)
    return SimpleNamespace(
        device=device,
        current=str(device.pk) == current,
        recent=clock.now() - device.last_used_at < timedelta(minutes=1),
        client=client.detail or "—",
        kind=client.kind if device.user_agent else device.get_kind_display(),
    )


def _own_devices(request: HttpRequest) -> Any:
    return Device.objects.filter(user_id=request.token_user.pk).active()  # type: ignore[attr-defined]


def _own_device(request: HttpRequest, device_id: Any) -> Device:
    """The signed-in user's live device ``device_id``; anyone else's is a 404, as a missing one."""
    return get_object_or_404(_own_devices(request), pk=device_id)


def _to_devices() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("authtokens:devices"))


@post_only
@token_login_required
def rename_device(request: HttpRequest, device_id: Any) -> HttpResponse:
    device = _own_device(request, device_id)
    form = RenameForm(request.POST)
    old_name = device.name
    try:
        if not form.is_valid():
            raise ValueError(form.errors)
        services.rename_device(device, form.cleaned_data["name"])
    except ValueError:
        limit = services.DEVICE_NAME_MAX_LENGTH
        text = gettext("A device name has 1 to %(limit)d characters.") % {"limit": limit}
        messages.error(request, text, fail_silently=True)
        return _to_devices()
    text = gettext("“%(old)s” is now called “%(new)s”.") % {"old": old_name, "new": device.name}
    messages.success(request, text, fail_silently=True)
    return _to_devices()


@token_login_required
def revoke_device(request: HttpRequest, device_id: Any) -> HttpResponse:
    """GET asks "Sign out this device?"; POST signs it out and names it in the message."""
    device = _own_device(request, device_id)
    current = str(device.pk) == request.token_claims["did"]  # type: ignore[attr-defined]
    if request.method != "POST":
        context = {"device": device, "current": current, "client": describe(device.user_agent)}
        return render(request, "authtokens/confirm_revoke.html", context)
    services.revoke_device(device, reason=Reason.USER, actor=request.token_user)  # type: ignore[attr-defined]
    if current:
        response = HttpResponseRedirect(sign_in_url("signed_out"))
        clear_token_cookie(response)
        return response
    text = gettext("“%(device)s” was signed out.") % {"device": device.name}
    messages.success(request, text, fail_silently=True)
    return _to_devices()


@token_login_required
def logout_others(request: HttpRequest) -> HttpResponse:
    """GET lists what would be signed out; POST signs out every device but this one."""
    others = _own_devices(request).exclude(pk=request.token_claims["did"])  # type: ignore[attr-defined]
    if request.method != "POST":
        return render(request, "authtokens/confirm_revoke_others.html", {"others": others})
    count = others.count()
    issued = services.logout_others(request.token_user, claims=request.token_claims)  # type: ignore[attr-defined]
    text = ngettext(
        "Every other device was signed out (%(count)d device).",
        "Every other device was signed out (%(count)d devices).",
        count,
    ) % {"count": count}
    messages.success(request, text, fail_silently=True)
    response = _to_devices()
    set_token_cookie(response, issued)
    return response
