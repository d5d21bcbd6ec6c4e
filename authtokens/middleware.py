"""``request.user`` from the token cookie: one browser session for pages, admin and panel.

Replace Django's ``AuthenticationMiddleware`` with ``TokenUserMiddleware`` and every view that
reads ``request.user`` (the staff admin, the end users' panel, ``login_required`` views, the
site pages) sees the user of the HttpOnly token cookie, checked for revocation like any token,
or ``AnonymousUser``. A Django session is never read for authentication: a session left
authenticated by ``django.contrib.auth.login()`` (a third-party login view, ``force_login``)
grants nothing, so no revocation path can leave a signed-in browser behind it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .cookies import acookie_session, cookie_session


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
