"""RFC 7662 token introspection, for resource servers that cannot check revocation themselves.

Resource servers authenticate as clients with HTTP Basic (RFC 7662 section 2.1, RFC 6749
section 2.3.1), using an id and secret from ``AUTHTOKENS["INTROSPECTION_CLIENTS"]``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.utils.crypto import constant_time_compare
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from . import services
from .conf import app_settings
from .openapi import IntrospectionSerializer, errors, extend_schema
from .views import NO_STORE, PublicView, _validated

REPORTED_CLAIMS = ("sub", "aud", "iss", "iat", "exp", "jti")


class InvalidClient(exceptions.AuthenticationFailed):
    default_code = "invalid_client"
    default_detail = "Client authentication failed."
    challenge = 'Basic realm="introspection"'


class IntrospectionRequestSerializer(serializers.Serializer):
    token = serializers.CharField(trim_whitespace=False)
    token_type_hint = serializers.ChoiceField(
        choices=["access_token", "refresh_token"], required=False, allow_null=True
    )


def authenticate_client(request: Request) -> str:
    """Return the client id from a valid HTTP Basic header, or raise ``InvalidClient``."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient() from None
    client_id, _, secret = decoded.partition(":")
    expected = app_settings.INTROSPECTION_CLIENTS.get(client_id)
    # Compare even for an unknown client, so that timing does not tell which ids exist.
    matches = constant_time_compare(secret, expected or "unknown-client-" + secret[::-1])
    if scheme.lower() != "basic" or expected is None or not matches:
        raise InvalidClient()
    return client_id


class IntrospectView(PublicView):
    """``POST /api/token/introspect/``: is this token active, and whose is it?"""

    def get_authenticate_header(self, request: Request) -> str:
        return InvalidClient.challenge  # keeps a failed client authentication a 401

    @extend_schema(
        request=IntrospectionRequestSerializer,
        responses={200: IntrospectionSerializer, **errors(400, 401)},
        auth=[{"basicAuth": []}],  # type: ignore[list-item]  # drf-spectacular takes these
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
