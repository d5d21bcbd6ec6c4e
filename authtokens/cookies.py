"""Browser sessions: the access token in an HttpOnly cookie, renewed before it expires.

The token never reaches JavaScript (HttpOnly), only travels over HTTPS (Secure), stays out of
cross-site requests (SameSite) and, with the ``__Host-`` prefix, cannot be set by a sibling
domain (RFC 6265bis section 4.1.3.2). Unsafe requests authenticated by the cookie need
Django's CSRF token; Bearer requests do not, since a browser never adds that header by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from . import services, tokens
from .authentication import LazyUser, user_and_claims
from .conf import app_settings
from .errors import bearer_challenge, to_api_exception
from .exceptions import AuthTokensError, StoreUnavailable, TokenError
from .services import IssuedTokens

CACHE_ATTRIBUTE = "_authtokens_cookie_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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

    The cookie outlives an idle user's token on purpose: the server then sees an expired
    token, not none, and can say "your session expired" instead of "please sign in".
    """
    session_end = issued.device.created_at + app_settings.WEB_SESSION_MAX_LIFETIME
    max_age = max(0, int((session_end - tokens.now()).total_seconds()))
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
    expires_at = tokens.expires_at(claims)
    if expires_at is None or claims["aud"] != app_settings.WEB_AUDIENCE:
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
            except TokenError:  # the session reached its maximum: let the token run out
                pass
            except (StoreUnavailable, DatabaseError):
                # The database is away: the token still has half its life, and the view has
                # answered already (a 503 of its own, if it needed the database). Renew later.
                pass
        return response


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
