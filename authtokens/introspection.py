"""RFC 7662 token introspection, for resource servers that cannot check revocation themselves.

Resource servers authenticate as clients with HTTP Basic (RFC 7662 section 2.1, RFC 6749
section 2.3.1), using an id and secret from ``AUTHTOKENS["INTROSPECTION_CLIENTS"]``, each
form-encoded (``application/x-www-form-urlencoded``) before Base64, as section 2.3.1 says.
Refused credentials count per client id and per address (``limits.py``): past the limit,
429 with ``Retry-After`` before any secret is compared.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from . import limits, services
from .conf import app_settings
from .openapi import IntrospectionSerializer, errors, extend_schema
from .views import NO_STORE, PublicView, _validated, refuse_if_locked

REPORTED_CLAIMS = ("sub", "aud", "iss", "iat", "exp", "jti")


class InvalidClient(exceptions.AuthenticationFailed):
    default_code = "invalid_client"
    default_detail = _("Client authentication failed.")
    challenge = 'Basic realm="introspection"'


class ClientCredentials(BaseAuthentication):
    """HTTP Basic client credentials, the scheme of the introspection endpoint.

    It names the scheme, for the 401 challenge and the OpenAPI schema (``basicAuth``), and
    authenticates no one by itself: the view checks the credentials (``authenticate_client``)
    once the failure limits allow it, so that a locked-out client costs no comparison.
    """

    def authenticate(self, request: Request) -> None:
        return None

    def authenticate_header(self, request: Request) -> str:
        return InvalidClient.challenge  # keeps a failed client authentication a 401


class IntrospectionRequestSerializer(serializers.Serializer):
    token = serializers.CharField(trim_whitespace=False)
    token_type_hint = serializers.ChoiceField(
        choices=["access_token", "refresh_token"], required=False, allow_null=True
    )


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The form-decoded client id and secret of an HTTP Basic header, or None."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    # RFC 6749 section 2.3.1: each was application/x-www-form-urlencoded before Base64.
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate_client(request: Request) -> str:
    """Return the client id from a valid HTTP Basic header, or raise ``InvalidClient``.

    Checks the failure limits first (429 while one is reached) and counts a refusal.
    """
    credentials = basic_credentials(request)
    client_id, secret = credentials if credentials is not None else (None, "")
    counters = limits.introspection_counters(request, client_id)
    refuse_if_locked(limits.retry_after(counters))
    clients = app_settings.INTROSPECTION_CLIENTS
    expected = clients.get(client_id) if client_id is not None else None
    # Compare even for an unknown client, so that timing does not tell which ids exist.
    matches = constant_time_compare(secret, expected or "unknown-client-" + secret[::-1])
    if client_id is None or expected is None or not matches:
        limits.record_failure(counters)
        raise InvalidClient()
    return client_id


class IntrospectView(PublicView):
    """``POST /api/token/introspect/``: is this token active, and whose is it?"""

    authentication_classes = [ClientCredentials]
    permission_classes = []  # the client is checked in post(): no "optional auth" in the schema

    @extend_schema(
        request=IntrospectionRequestSerializer,
        responses={200: IntrospectionSerializer, **errors(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        client_id = authenticate_client(request)
        data = _validated(IntrospectionRequestSerializer, request)
        claims = services.introspect(data["token"], token_type_hint=data.get("token_type_hint"))
        if claims is None:
            return Response({"active": False}, headers=NO_STORE)
        body: dict[str, Any] = {"active": True, "token_type": claims["token_type"]}
        body.update({name: claims[name] for name in REPORTED_CLAIMS if name in claims})
        body["device_id"] = claims["did"]
        body["client_id"] = client_id
        return Response(body, headers=NO_STORE)
