"""RFC 7662 token introspection, for resource servers that cannot check revocation themselves.

Resource servers authenticate as clients with HTTP Basic (RFC 7662 section 2.1, RFC 6749
section 2.3.1), using an id and secret from ``AUTHTOKENS["INTROSPECTION_CLIENTS"]``, each
form-encoded (``application/x-www-form-urlencoded``) before Base64, as section 2.3.1 says.
Refused credentials count per client id and per address (``limits``): past the limit,
429 with ``Retry-After`` before any secret is compared.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from django.contrib.auth.models import AnonymousUser
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions, serializers
from rest_framework.authentication import BasicAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from . import limits, services
from .conf import app_settings
from .errors import to_api_exception
from .exceptions import InvalidClient
from .openapi import errors, extend_schema
from .views import NO_STORE, PublicView, refuse_if_locked, validated

TOKEN_TYPES = ["access_token", "refresh_token"]


class IntrospectionClientAuthentication(BasicAuthentication):
    """HTTP Basic client credentials, checked against ``INTROSPECTION_CLIENTS``.

    The endpoint's only scheme, and a required one (RFC 7662 section 2.1): missing or
    malformed credentials are a failed client authentication like a wrong secret, 401
    ``invalid_client`` with a ``Basic`` challenge, and count as a failure. ``request.auth`` is
    the client id; there is no user.
    """

    www_authenticate_realm = "introspection"

    def authenticate(self, request: Request) -> tuple[Any, str]:
        try:
            credentials = super().authenticate(request)  # DRF parses; we form-decode below
        except exceptions.AuthenticationFailed:  # a malformed Basic header
            credentials = None
        client_id, secret = credentials if credentials is not None else (None, "")
        return AnonymousUser(), self.check_client(request, client_id, secret)

    # The stubs type DRF's user lookup; ours returns the decoded credentials to authenticate().
    def authenticate_credentials(  # type: ignore[override]
        self, userid: str, password: str, request: Any = None
    ) -> tuple[str, str]:
        # RFC 6749 section 2.3.1: each was application/x-www-form-urlencoded before Base64.
        return unquote_plus(userid), unquote_plus(password)

    def check_client(self, request: Request, client_id: str | None, secret: str) -> str:
        """Return ``client_id`` if ``secret`` is its secret; else count a failure and raise.

        While a failure limit is reached, 429 before any comparison: a locked-out client
        costs nothing and learns nothing.
        """
        counters = limits.introspection_counters(request, client_id)
        refuse_if_locked(limits.retry_after(counters))
        expected = app_settings.INTROSPECTION_CLIENTS.get(client_id) if client_id else None
        # Compare even for an unknown client, so that timing does not tell which ids exist.
        matches = constant_time_compare(secret, expected or "unknown-client-" + secret[::-1])
        if client_id is None or expected is None or not matches:
            limits.record_failure(counters)
            raise to_api_exception(InvalidClient())
        return client_id


class IntrospectionRequestSerializer(serializers.Serializer):
    token = serializers.CharField(trim_whitespace=False)
    token_type_hint = serializers.ChoiceField(choices=TOKEN_TYPES, required=False, allow_null=True)


class IntrospectionSerializer(serializers.Serializer):
    """Render an introspection answer (RFC 7662 section 2.2): only ``active`` when inactive.

    It renders the token's verified claims plus ``active`` and ``client_id``; a claim this
    serializer does not declare (a ``CLAIMS_HOOK``'s) is not sent.
    """

    active = serializers.BooleanField()
    # Labelled, unlike token_type_hint's choices: the schema names the two enums apart.
    token_type = serializers.ChoiceField(
        choices=[
            ("access_token", "An access token (typ at+jwt)"),
            ("refresh_token", "A refresh token (typ rt+jwt)"),
        ],
        required=False,
    )
    sub = serializers.CharField(required=False)
    aud = serializers.CharField(required=False)
    iss = serializers.CharField(required=False)
    iat = serializers.IntegerField(required=False)
    exp = serializers.IntegerField(required=False, help_text="Absent: never expires.")
    jti = serializers.CharField(required=False)
    device_id = serializers.UUIDField(source="did", required=False)
    client_id = serializers.CharField(
        required=False, help_text="The introspection client that asked (RFC 7662 section 2.2)."
    )


class IntrospectView(PublicView):
    """``POST /api/token/introspect/``: is this token active, and whose is it?"""

    authentication_classes = [IntrospectionClientAuthentication]
    # The authentication class refuses every request it does not authenticate, so no
    # permission is needed; none also keeps "optional authentication" out of the schema.
    permission_classes = []

    @extend_schema(
        request=IntrospectionRequestSerializer,
        responses={200: IntrospectionSerializer, **errors(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        data = validated(IntrospectionRequestSerializer, request)
        claims = services.introspect(data["token"], token_type_hint=data.get("token_type_hint"))
        answer: dict[str, Any] = {"active": False}
        if claims is not None:  # ours last: a claims hook may not shadow them
            answer = {**claims, "active": True, "client_id": request.auth}
        return Response(IntrospectionSerializer(answer).data, headers=NO_STORE)
