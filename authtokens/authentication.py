"""DRF authentication with a Bearer access token; ``request.user`` loads only when used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, empty
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.request import Request

from . import credentials, services, tokens, usage
from .conf import app_settings
from .errors import bearer_challenge, to_api_exception
from .exceptions import (
    AuthTokensError,
    InvalidClaim,
    MalformedToken,
    TokenRevoked,
    WrongAudience,
)


class LazyUser(SimpleLazyObject):
    """The token's user: ``pk`` and the auth flags answer without a query; anything else loads.

    A view that needs only the caller's id (most permission checks) costs no database query.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user_id: str) -> None:
        model = get_user_model()
        pk = model._meta.pk.to_python(user_id)
        super().__init__(lambda: _load_user(model, pk))
        self.__dict__["pk"] = pk
        self.__dict__[model._meta.pk.attname] = pk

    def __bool__(self) -> bool:
        return True

    async def aload(self) -> Any:
        """Return the user row, loading it in a thread if need be: for ``async def`` views,
        where reading anything beyond ``pk`` would query the database from the event loop.

        Raises the same 401 (``token_revoked``) for a user deleted or deactivated since.
        """
        if self._wrapped is empty:
            await sync_to_async(self._setup)()
        return self._wrapped


def _load_user(model: Any, pk: Any) -> Any:
    try:
        return _fetch_user(model, pk)
    except AuthTokensError as error:  # raised inside a view: DRF answers 401 with a challenge
        raise to_api_exception(error) from None


def _fetch_user(model: Any, pk: Any) -> Any:
    """Return the token's user, or raise ``TokenRevoked`` if it was deleted or deactivated
    since the token was checked (``QuerySet.update`` or raw SQL: no signal revoked it)."""
    user = model._default_manager.filter(pk=pk).first()
    if user is None or not credentials.is_active(user):
        raise TokenRevoked()
    return user


class JWTAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access token>`` (RFC 6750 section 2.1), in simplejwt's three
    steps, each overridable: get the raw token, validate it (signature, claims, revocation),
    get the user.

    A Bearer token that is someone else's JWT (no kid of our key ring, no ``iss`` of ours:
    ``tokens.is_foreign``) is left to the next authentication class, so that authtokens can
    sit before simplejwt's class while a project migrates (README, "Migrating from
    simplejwt"). Any token naming our kid or our issuer is verified here, and refused if it
    fails.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[LazyUser, dict[str, Any]] | None:
        raw_token = self.get_raw_token(request)
        if raw_token is None:
            return None  # no Bearer token of ours: let the next class try
        try:
            claims = self.get_validated_claims(raw_token)
            return self.get_user(claims), claims
        except AuthTokensError as error:
            raise to_api_exception(error) from None

    def get_raw_token(self, request: Request) -> str | None:
        """The Bearer token of the request, None if it has none or it is not ours."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None  # no credentials, or another scheme's
        if len(parts) != 2:
            raise to_api_exception(MalformedToken("Use 'Authorization: Bearer <token>'."))
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise to_api_exception(MalformedToken()) from None
        return None if tokens.is_foreign(token) else token

    def get_validated_claims(self, raw_token: str) -> dict[str, Any]:
        """Decode and verify the token at every level, then record a never-expiring token's
        use (``usage``: at most one write per device per interval; an idle one is refused)."""
        claims = services.authenticate(raw_token)
        usage.note_use(claims)
        return claims

    def get_user(self, claims: dict[str, Any]) -> LazyUser:
        """The token's user, lazily: a view that reads only ``request.user.pk`` costs no
        query (and so sees a deactivation behind the ORM's back only after
        ``authtokens_reconcile``)."""
        try:
            return LazyUser(claims["sub"])
        except ValidationError:  # a sub that is no primary key of this user model
            raise InvalidClaim() from None

    def authenticate_header(self, request: Request) -> str:
        return bearer_challenge()


_bearer = JWTAuthentication()


def authenticate_token(token: str) -> tuple[LazyUser, dict[str, Any]]:
    """Verify a Bearer ``token`` outside DRF's machinery (the async helper, benchmarks) and
    return (user, claims), or raise the HTTP error: the class's own steps."""
    try:
        claims = _bearer.get_validated_claims(token)
        return _bearer.get_user(claims), claims
    except AuthTokensError as error:
        raise to_api_exception(error) from None


def user_and_claims(token: str) -> tuple[LazyUser, dict[str, Any]]:
    """Verify a cookie's ``token`` and return its user, already loaded, and claims, or raise
    an ``AuthTokensError``: ``TokenRevoked`` for a deleted or inactive user.

    The cookie path (pages, the admins, API calls by the cookie) loads the user row at once,
    one query: pages show the user anyway, and so every page refuses an inactive user.

    Only a browser's token (``aud`` = ``WEB_AUDIENCE``) is a browser session: a native app's
    token, which may never expire, pasted into the cookie would otherwise open the admin with
    no session maximum.
    """
    claims = _bearer.get_validated_claims(token)
    if claims["aud"] != app_settings.WEB_AUDIENCE:
        raise WrongAudience()
    user = _bearer.get_user(claims)
    user.__dict__["_wrapped"] = _fetch_user(get_user_model(), user.pk)
    return user, claims


async def aauthenticate_token(token: str) -> tuple[LazyUser, dict[str, Any]]:
    """``authenticate_token`` for ``async def`` views under ASGI: the same checks, in a thread.

    The revocation store may query the database (the database store; the Redis store while
    its mirror is cold, after a flush or an outage), which Django forbids from the event loop.
    Every check runs as for a sync view, so every revocation holds. The user stays lazy: read
    ``pk`` freely, ``await user.aload()`` for the rest.
    """
    return await sync_to_async(authenticate_token)(token)


# -- the browser: the token in the HttpOnly cookie (cookies.py sets and renews it) -----------

CACHE_ATTRIBUTE = "_authtokens_cookie_session"


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
