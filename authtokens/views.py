"""Thin API views: validate the input, call ``services``, answer through a serializer.

The tokens' endpoints, and the base classes and helpers every API view uses; the caller's
account (``me``, devices) is in ``account_api.py``, introspection in ``introspection.py``.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.utils.translation import gettext
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import limits, services
from .authentication import JWTAuthentication
from .clients import client_ip
from .cookies import CookieAuthentication, clear_token_cookie, set_token_cookie
from .errors import exception_handler
from .exceptions import InvalidCredentials, TokenError
from .keys import get_key_ring
from .openapi import errors, extend_schema
from .serializers import (
    PasswordChangeSerializer,
    RefreshRequestSerializer,
    RevokeRequestSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    username_field,
)

# Token responses must not be cached by anyone (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class AuthTokensView(APIView):
    """Our error shape, whatever the project's EXCEPTION_HANDLER."""

    # A Bearer header first; else the browser's cookie, with Django's CSRF check.
    authentication_classes = [JWTAuthentication, CookieAuthentication]
    permission_classes = [IsAuthenticated]

    def get_exception_handler(self) -> Any:
        return exception_handler


class PublicView(AuthTokensView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


def claims_of(request: Request) -> dict[str, Any]:
    """The verified claims our authentication classes put in ``request.auth``."""
    return cast(dict[str, Any], request.auth)


def validated(serializer_class: type, request: Request) -> dict[str, Any]:
    """Return the request body's validated data, or raise DRF's 400 ``ValidationError``."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def refuse_if_locked(wait: int | None) -> None:
    """429 ``throttled`` with ``Retry-After`` while a failure limit is reached."""
    if wait is not None:
        raise Throttled(wait=wait, detail=gettext("Too many failed attempts."))


class TokenIssueView(PublicView):
    """Sign in with the user model's ``USERNAME_FIELD`` and a password; a new device gets its
    tokens, and Django's ``user_logged_in`` is sent (its receiver updates ``last_login``)."""

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, **errors(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        data = validated(TokenRequestSerializer, request)
        username = data[username_field()]
        # Before the password is hashed: a locked-out client costs no PBKDF2 work.
        refuse_if_locked(limits.sign_in_wait(request._request, username))
        # A failure sends user_login_failed, which counts it (limits.count_failed_sign_in).
        # ``username=``, as Django's AuthenticationForm: ModelBackend reads it as USERNAME_FIELD.
        user = authenticate(request._request, username=username, password=data["password"])
        # Wrong password, unknown or inactive user: one answer, so that it gives "no hint whether
        # a username exists" (README, Guarantees).
        if user is None:
            raise InvalidCredentials()
        issued = services.issue(
            user,
            client=data["client"],
            audience=data["audience"],
            device_name=data["device_name"],
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            ip_address=client_ip(request.META),
        )
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response(TokenResponseSerializer(issued).data, headers=NO_STORE)


def _by_cookie(request: Request) -> bool:
    return isinstance(request.successful_authenticator, CookieAuthentication)


def _tokens_answer(request: Request, issued: services.IssuedTokens) -> Response:
    """The new tokens in the body; for a request that came with the cookie, in a renewed
    cookie only, so that JavaScript never sees them (the body keeps expiry and device)."""
    by_cookie = _by_cookie(request)
    body = TokenResponseSerializer(issued, context={"cookie": by_cookie}).data
    response = Response(body, headers=NO_STORE)
    if by_cookie:
        set_token_cookie(response, issued)
    return response


class TokenExtendView(AuthTokensView):
    @extend_schema(request=None, responses={200: TokenResponseSerializer, **errors(400, 401, 403)})
    def post(self, request: Request) -> Response:
        return _tokens_answer(request, services.extend(claims_of(request)))


class TokenRefreshView(PublicView):
    """Trade a refresh token for new tokens; refused ones count per client address."""

    @extend_schema(
        request=RefreshRequestSerializer,
        responses={200: TokenResponseSerializer, **errors(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        counters = limits.refresh_counters(request)
        refuse_if_locked(limits.retry_after(counters))
        token = validated(RefreshRequestSerializer, request)["refresh"]
        try:
            issued = services.refresh(token)
        except TokenError:
            limits.record_failure(counters)
            raise
        return Response(TokenResponseSerializer(issued).data, headers=NO_STORE)


class LogoutView(AuthTokensView):
    @extend_schema(request=None, responses={204: None, **errors(401, 403)})
    def post(self, request: Request) -> Response:
        services.logout(claims_of(request), actor=request.user)
        response = Response(status=204)
        if _by_cookie(request):
            clear_token_cookie(response)
        return response


class LogoutAllView(AuthTokensView):
    @extend_schema(request=None, responses={204: None, **errors(401, 403)})
    def post(self, request: Request) -> Response:
        services.logout_all(request.user)
        response = Response(status=204)
        if _by_cookie(request):
            clear_token_cookie(response)
        return response


class PasswordChangeView(AuthTokensView):
    """Change the caller's password: every other device is signed out at once.

    README, Guarantees: "a password change ... ends every token of the user".
    """

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={200: TokenResponseSerializer, 204: None, **errors(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        user = request.user
        username = user.get_username()
        # The old password is a password check like sign-in's: the same limits, checked
        # before it is hashed, and a wrong one is a failed sign-in for that user.
        refuse_if_locked(limits.sign_in_wait(request._request, username))
        serializer = PasswordChangeSerializer(data=request.data, context={"user": user})
        if not serializer.is_valid():
            if _wrong_old_password(serializer.errors):
                user_login_failed.send(
                    sender=__name__, credentials={"username": username}, request=request._request
                )
            raise ValidationError(serializer.errors)
        issued = services.change_password(
            user, serializer.validated_data["new_password"], claims=claims_of(request)
        )
        if issued is None:
            response = Response(status=204)
            if _by_cookie(request):
                clear_token_cookie(response)
            return response
        # A browser keeps its session, under the new generation, in its cookie.
        return _tokens_answer(request, issued)


def _wrong_old_password(errors: Any) -> bool:
    return any(
        getattr(error, "code", None) == "wrong_password" for error in errors.get("old_password", [])
    )


class RevokeView(AuthTokensView):
    """RFC 7009 token revocation: 200 whether or not the token was valid."""

    @extend_schema(request=RevokeRequestSerializer, responses={200: None, **errors(400, 401, 403)})
    def post(self, request: Request) -> Response:
        data = validated(RevokeRequestSerializer, request)
        services.revoke(
            data["token"], user=request.user, token_type_hint=data.get("token_type_hint")
        )
        return Response(status=200)


class JWKSView(PublicView):
    """The public keys of asymmetric signing keys (RFC 7517 section 5); empty for HMAC."""

    @extend_schema(
        responses={200: {"type": "object", "description": "A JWK Set (RFC 7517 section 5)."}}
    )
    def get(self, request: Request) -> Response:
        return Response(get_key_ring().public_jwks(), headers={"Cache-Control": "max-age=300"})
