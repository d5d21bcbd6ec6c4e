"""``request.user`` from the token cookie: one browser session for pages, admin and panel.

Replace Django's ``AuthenticationMiddleware`` with ``TokenUserMiddleware`` and every view that
reads ``request.user`` (the staff admin, the end users' panel, ``login_required`` views, the
site pages) sees the user of the HttpOnly token cookie, checked for revocation like any token,
or ``AnonymousUser``. A Django session is never read for authentication: a session left
authenticated by ``django.contrib.auth.login()`` (a third-party login view, ``force_login``)
grants nothing, so no revocation path can leave a signed-in browser behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from . import services
from .authentication import CACHE_ATTRIBUTE, acookie_session, cookie_name, cookie_session
from .context import RequestUser, acting_as
from .cookies import (
    SAFE_METHODS,
    SIGNED_OUT_ATTRIBUTE,
    _needs_renewal,
    clear_token_cookie,
    set_token_cookie,
)
from .exceptions import NotExtendable, StoreUnavailable, TokenError


def cookie_user(request: HttpRequest) -> Any:
    """The user of the request's token cookie, or ``AnonymousUser`` (no, or a refused, cookie)."""
    session = cookie_session(request)
    return session.user if session is not None and session.claims is not None else AnonymousUser()


async def acookie_user(request: HttpRequest) -> Any:
    session = await acookie_session(request)
    return session.user if session is not None and session.claims is not None else AnonymousUser()


class TokenUserMiddleware(AuthenticationMiddleware):
    """Set ``request.user`` (lazily) and ``request.auser`` from the token cookie.

    A subclass of ``AuthenticationMiddleware`` so that the admin's system check (admin.E408)
    accepts it in its place. Nothing is checked until a view reads ``request.user``: a Bearer
    API call, which DRF authenticates itself, pays nothing for it.
    """

    def process_request(self, request: HttpRequest) -> None:
        request.user = SimpleLazyObject(lambda: cookie_user(request))  # type: ignore[assignment]
        request.auser = lambda: acookie_user(request)


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


class ActingUserMiddleware:
    """Record the signed-in user of each request as the actor of revocations it causes.

    Add it after ``AuthenticationMiddleware`` so that, for example, a staff member resetting a
    password in the admin is recorded as who revoked that user's tokens.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # request.user stays lazy: a request that revokes nothing never loads it.
        with acting_as(RequestUser(request)):
            return self.get_response(request)
