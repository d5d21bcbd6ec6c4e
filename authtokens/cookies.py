"""Browser sessions: the access token in an HttpOnly cookie, renewed before it expires.

The token never reaches JavaScript (HttpOnly), only travels over HTTPS (Secure), stays out of
cross-site requests (SameSite) and, with the ``__Host-`` prefix, cannot be set by a sibling
domain (RFC 6265bis section 4.1.3.2). Unsafe requests authenticated by the cookie need
Django's CSRF token; Bearer requests do not, since a browser never adds that header by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse

from . import kinds, services, tokens
from .authentication import (  # re-exported: their 0.1 home, still imported from here
    CookieAuthentication,
    CookieSession,
    acookie_session,
    cookie_name,
    cookie_session,
)
from .conf import app_settings
from .context import acting_as
from .services import IssuedTokens

SIGNED_OUT_ATTRIBUTE = "_authtokens_signed_out"  # set when django's logout() ended the cookie
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How long past the session's end the cookie stays, to say why it ended (README, Browsers).
EXPIRED_NOTICE = timedelta(days=1)


def set_token_cookie(response: HttpResponse, issued: IssuedTokens) -> None:
    """Store the access token in the cookie, which lives as long as the session may.

    The cookie outlives an idle user's token on purpose, and the session itself by
    ``EXPIRED_NOTICE``: the server then sees an expired token, not none, and can say "your
    session expired" instead of "please sign in". An expired token is refused like no token.
    """
    device = issued.device
    # The session's end is the device kind's; a kind without one keeps the cookie as long
    # as its token, and a token that never expires in a cookie for the browser's session.
    session_end = kinds.of(device).session_end(device) or issued.access_expires_at
    max_age = None
    if session_end is not None:
        max_age = max(0, int((session_end + EXPIRED_NOTICE - tokens.now()).total_seconds()))
    response.set_cookie(
        cookie_name(),
        issued.access,
        max_age=max_age,
        path="/",
        secure=app_settings.COOKIE_SECURE,
        httponly=True,
        samesite=app_settings.COOKIE_SAMESITE,
    )


def clear_token_cookie(response: HttpResponse) -> None:
    response.delete_cookie(cookie_name(), path="/", samesite=app_settings.COOKIE_SAMESITE)


def _needs_renewal(claims: dict[str, Any]) -> bool:
    # Only a browser's token reaches here (authentication.user_and_claims refuses any other in
    # the cookie); whether its session may slide is its device kind's, decided by extend.
    expires_at = tokens.expires_at(claims)
    if expires_at is None:
        return False
    threshold = app_settings.WEB_ACCESS_TOKEN_LIFETIME * app_settings.COOKIE_RENEW_AT
    return expires_at - tokens.now() < threshold


def end_cookie_session(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``user_logged_out``: ``django.contrib.auth.logout()`` (Django's ``LogoutView``, a
    third-party view) signs this browser's device out as well, and the middleware then drops
    its cookie. Without it, "Log out" there would leave the token cookie signed in."""
    session = cookie_session(request) if request is not None else None
    if session is not None and session.claims is not None:
        services.logout(session.claims, actor=session.user)
        request.__dict__[SIGNED_OUT_ATTRIBUTE] = True


def keeps_this_device(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a Django password-change view for cookie sessions: the browser that changed the
    password stays signed in (with ``KEEP_DEVICE_ON_PASSWORD_CHANGE``), every other device is
    signed out, as through the API's password change.

    The new password moves the user to a new generation, which refuses the cookie's token; so
    the device is exempted while the view saves, then given a token of the new generation.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        session = cookie_session(request)
        if request.method != "POST" or session is None or session.claims is None:
            return view(request, *args, **kwargs)
        user = session.user
        keep = session.claims["did"] if app_settings.KEEP_DEVICE_ON_PASSWORD_CHANGE else None
        password_before = user.password  # type: ignore[union-attr]
        with acting_as(user, device_id=keep):
            response = view(request, *args, **kwargs)
        changed = get_user_model()._default_manager.filter(pk=user.pk)  # type: ignore[union-attr]
        if keep is not None and changed.exclude(password=password_before).exists():
            set_token_cookie(response, services.reissue(user, keep))
        return response

    return wrapper


def __getattr__(name: str) -> Any:
    """``authtokens.cookies.TokenCookieMiddleware``, the 0.1 path in settings, now lives in
    ``authtokens.middleware`` with the other middleware (imported late: no cycle)."""
    if name == "TokenCookieMiddleware":
        from .middleware import TokenCookieMiddleware

        return TokenCookieMiddleware
    raise AttributeError(name)


__all__ = [
    "CookieAuthentication",
    "CookieSession",
    "acookie_session",
    "clear_token_cookie",
    "cookie_name",
    "cookie_session",
    "end_cookie_session",
    "keeps_this_device",
    "set_token_cookie",
]
