"""Who is signed in on a page: the token cookie checked, or a redirect to sign in that says why.

Pages authenticate with the token cookie (``cookies.py``); every form posts with Django's CSRF
token. A visitor whose token is missing, expired or revoked is sent to sign in with a message
that says why, never shown a bare 401.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from .. import tokens
from ..cookies import CookieSession, acookie_session, cookie_name, cookie_session
from ..exceptions import SessionExpired, TokenError, TokenExpired, TokenRevoked
from ..models import Device, Reason

# Why the sign-in page is shown: ?reason=..., one of these keys (never free text).
MESSAGES = {
    "expired": _("Your session expired. Please sign in again."),
    "revoked": _("You were signed out: this device was signed out elsewhere."),
    "password_changed": _(
        "You were signed out because your password was changed. "
        "Please sign in with your new password."
    ),
    "signed_out": _("You have signed out."),
    "required": _("Please sign in to continue."),
}


def sign_in_url(reason: str, next_url: str = "") -> str:
    query = {"reason": reason, **({"next": next_url} if next_url else {})}
    return f"{reverse('authtokens:sign-in')}?{urlencode(query)}"


def token_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``view`` with ``request.token_claims`` and ``request.token_user``, or redirect.

    Works on ``async def`` views too (under ASGI): the cookie is then checked in a thread,
    and ``request.token_user`` arrives loaded, so the view reads it without a query. The
    answer is private: ``Cache-Control: no-store`` (``never_cache``), the redirect included.
    """
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            session = await acookie_session(request)
            refusal = await sync_to_async(_admit)(request, session)
            return refusal if refusal is not None else await view(request, *args, **kwargs)

        return never_cache(async_wrapper)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = _admit(request, cookie_session(request))
        return refusal if refusal is not None else view(request, *args, **kwargs)

    return never_cache(wrapper)


def signed_in(request: HttpRequest) -> CookieSession | None:
    """The request's valid cookie session, attached to ``request`` as the pages expect, or None."""
    session = cookie_session(request)
    if session is None or session.claims is None:
        return None
    request.token_claims, request.token_user = session.claims, session.user  # type: ignore[attr-defined]
    return session


def _admit(request: HttpRequest, session: CookieSession | None) -> HttpResponse | None:
    """Attach the session's claims and user to ``request``, or return the redirect to sign in."""
    if session is None or session.claims is None:
        reason = "required" if session is None else _reason_for(request, session.error)
        return HttpResponseRedirect(sign_in_url(reason, request.get_full_path()))
    request.token_claims, request.token_user = session.claims, session.user  # type: ignore[attr-defined]
    return None


def _reason_for(request: HttpRequest, error: Any) -> str:
    if isinstance(error, TokenExpired | SessionExpired):
        return "expired"
    return _revocation_reason(request) if isinstance(error, TokenRevoked) else "required"


def _revocation_reason(request: HttpRequest) -> str:
    """Say "your password was changed" when that is why this device was revoked.

    The device's ``revoked_reason`` tells; the token names its device, and its signature
    (checked again here) is what makes that name worth a query.
    """
    try:
        claims = tokens.decode(request.COOKIES.get(cookie_name()), token_type=tokens.ACCESS)
    except TokenError:
        return "revoked"
    devices = Device.objects.filter(pk=claims["did"], user_id=claims["sub"])
    reason = devices.values_list("revoked_reason", flat=True).first()
    return "password_changed" if reason == Reason.PASSWORD_CHANGE else "revoked"


def safe_next(request: HttpRequest) -> str:
    """The ``next`` URL of the request if it stays on this site, else the home page."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if allowed else reverse("authtokens:home")
