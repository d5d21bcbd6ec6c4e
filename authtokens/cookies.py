"""Browser sessions: the access token in an HttpOnly cookie, renewed before it expires.

The token never reaches JavaScript (HttpOnly), only travels over HTTPS (Secure), stays out of
cross-site requests (SameSite) and, with the ``__Host-`` prefix, cannot be set by a sibling
domain (RFC 6265bis section 4.1.3.2). Unsafe requests authenticated by the cookie need
Django's CSRF token; Bearer requests do not, since a browser never adds that header by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from . import kinds, services, tokens
from .authentication import LazyUser, user_and_claims
from .conf import app_settings
from .context import acting_as
from .errors import bearer_challenge, to_api_exception
from .exceptions import AuthTokensError, NotExtendable, StoreUnavailable, TokenError
from .services import IssuedTokens

CACHE_ATTRIBUTE = "_authtokens_cookie_session"
SIGNED_OUT_ATTRIBUTE = "_authtokens_signed_out"  # set when django's logout() ended the cookie
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How long past the session's end the cookie stays, to say why it ended (README, Browsers).
EXPIRED_NOTICE = timedelta(days=1)


@dataclass(frozen=True)
class CookieSession:
    """The outcome of checking a request's token cookie: user and claims, or the error."""

    user: LazyUser | None = None
    claims: dict[str, Any] | None = None
    error: AuthTokensError | None = None


def cookie_name() -> str:
    """``__Host-authtokens`` when Secure (the prefix needs it), else ``authtokens``."""
    if app_settings.COOKIE_NAME:
        return app_settings.COOKIE_NAME
    return "__Host-authtokens" if app_settings.COOKIE_SECURE else "authtokens"


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


def cookie_session(request: HttpRequest) -> CookieSession | None:
    """Check the request's token cookie once per request; None when there is no cookie."""
    if CACHE_ATTRIBUTE not in request.__dict__:
        token = request.COOKIES.get(cookie_name())
        session = None
        if token:
            try:
                user, claims = user_and_claims(token)
                session = CookieSession(user=user, claims=claims)
            except AuthTokensError as error:
                session = CookieSession(error=error)
        request.__dict__[CACHE_ATTRIBUTE] = session
    return request.__dict__[CACHE_ATTRIBUTE]


async def acookie_session(request: HttpRequest) -> CookieSession | None:
    """``cookie_session`` for async views: checked in a thread (the check may query the
    database, and loads the user), once per request."""
    if CACHE_ATTRIBUTE in request.__dict__:
        return request.__dict__[CACHE_ATTRIBUTE]
    return await sync_to_async(cookie_session)(request)


def _needs_renewal(claims: dict[str, Any]) -> bool:
    # Only a browser's token reaches here (authentication.user_and_claims refuses any other in
    # the cookie); whether its session may slide is its device kind's, decided by extend.
    expires_at = tokens.expires_at(claims)
    if expires_at is None:
        return False
    threshold = app_settings.WEB_ACCESS_TOKEN_LIFETIME * app_settings.COOKIE_RENEW_AT
    return expires_at - tokens.now() < threshold


class TokenCookieMiddleware:
    """Renew a cookie whose token is past ``COOKIE_RENEW_AT`` of its life; drop a refused one.

    Any request that authenticated with the cookie renews, pages and API calls alike, so an
    active browser never meets an expired token, and an idle one simply lets it expire. A
    request that never looked at the cookie (a Bearer call, the admin) costs no extra check.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.__dict__.get(SIGNED_OUT_ATTRIBUTE) and cookie_name() not in response.cookies:
            clear_token_cookie(response)
            return response
        session = request.__dict__.get(CACHE_ATTRIBUTE)  # set only if the request used it
        if session is None or cookie_name() in response.cookies:
            return response  # cookie unused or absent, or the view set or cleared it itself
        if isinstance(session.error, TokenError):
            clear_token_cookie(response)
        # Only after a safe request: an unsafe one may just have revoked this very token, or
        # moved the user to a new generation, and must not be undone by a renewal.
        elif request.method in SAFE_METHODS and session.claims and _needs_renewal(session.claims):
            try:
                set_token_cookie(response, services.extend(session.claims))
            except (TokenError, NotExtendable):
                pass  # the session reached its maximum, or may not slide: let the token run out
            except (StoreUnavailable, DatabaseError):
                # The database is away: the token still has half its life, and the view has
                # answered already (a 503 of its own, if it needed the database). Renew later.
                pass
        return response


def end_cookie_session(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``user_logged_out``: ``django.contrib.auth.logout()`` (Django's ``LogoutView``, a
    third-party view) signs this browser's device out as well, and the middleware then drops
    its cookie. Without it, "Log out" there would leave the token cookie signed in."""
    session = cookie_session(request) if request is not None else None
    if session is not None and session.claims is not None:
        services.logout(session.claims, actor=session.user)
        request.__dict__[SIGNED_OUT_ATTRIBUTE] = True


class CookieAuthentication(SessionAuthentication):
    """DRF authentication from the token cookie, with Django's CSRF check on unsafe methods.

    Put it after ``JWTAuthentication``: a request with a Bearer header is not a cookie one.
    """

    def authenticate(self, request: Request) -> tuple[LazyUser, dict[str, Any]] | None:
        session = cookie_session(request._request)
        if session is None:
            return None
        if session.error is not None:
            raise to_api_exception(session.error)
        self.enforce_csrf(request)
        return session.user, session.claims  # type: ignore[return-value]

    def authenticate_header(self, request: Request) -> str:
        return bearer_challenge()


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
