"""OpenAPI with drf-spectacular (optional): security schemes and response shapes.

``apps.py`` imports this module when drf-spectacular is installed, which registers the three
authentication extensions; views use ``extend_schema`` from here, a no-op without it. The schema
needs no SPECTACULAR_SETTINGS of the project: ``manage.py spectacular --validate
--fail-on-warn`` passes with none (a test runs it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers

try:
    from drf_spectacular.extensions import OpenApiAuthenticationExtension
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

    DEVICE_ID: Any = OpenApiParameter("device_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
except ImportError:  # pragma: no cover - the schema is optional
    DEVICE_ID = None

    def extend_schema(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[misc]
        return lambda view: view

    OpenApiResponse = None  # type: ignore[assignment,misc]
    OpenApiAuthenticationExtension = None  # type: ignore[assignment,misc]


class ErrorSerializer(serializers.Serializer):
    """The one shape of every error body."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Declared here: a field named "errors" would shadow Serializer.errors as an attribute.
        return {
            "code": serializers.CharField(help_text="Stable, machine-readable error code."),
            "detail": serializers.CharField(help_text="Human-readable explanation."),
            "errors": serializers.DictField(
                required=False, help_text="Validation errors, by field (400 only)."
            ),
        }


class DeviceRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class TokenResponseSerializer(serializers.Serializer):
    access = serializers.CharField(
        required=False,
        help_text="The access token (a JWT, typ at+jwt). Absent when the request came with "
        "the token cookie: the renewed cookie carries it, out of JavaScript's reach.",
    )
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(required=False, help_text="Absent: never expires.")
    refresh = serializers.CharField(required=False, help_text="Native clients only.")
    refresh_expires_in = serializers.IntegerField(required=False)
    device = DeviceRefSerializer()


class MeSerializer(serializers.Serializer):
    id = serializers.CharField()
    username = serializers.CharField()
    device = DeviceRefSerializer(allow_null=True)


class IntrospectionSerializer(serializers.Serializer):
    """RFC 7662 section 2.2; only ``active`` for an inactive token."""

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
    username = serializers.CharField(required=False)
    aud = serializers.CharField(required=False)
    iss = serializers.CharField(required=False)
    iat = serializers.IntegerField(required=False)
    exp = serializers.IntegerField(required=False)
    jti = serializers.CharField(required=False)
    device_id = serializers.UUIDField(required=False)


def errors(*statuses: int) -> dict[int, Any]:
    """Document the error responses of a view, all with the one error shape."""
    if OpenApiResponse is None:  # pragma: no cover
        return {}
    return {status: OpenApiResponse(ErrorSerializer) for status in statuses}


if OpenApiAuthenticationExtension is not None:

    class BearerScheme(OpenApiAuthenticationExtension):
        target_class = "authtokens.authentication.JWTAuthentication"
        name = "bearerAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
            return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

    class CookieScheme(OpenApiAuthenticationExtension):
        target_class = "authtokens.cookies.CookieAuthentication"
        name = "cookieAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
            from .cookies import cookie_name

            return {
                "type": "apiKey",
                "in": "cookie",
                "name": cookie_name(),
                "description": "Browsers; unsafe methods also need the X-CSRFToken header.",
            }

    class BasicClientScheme(OpenApiAuthenticationExtension):
        target_class = "authtokens.introspection.ClientCredentials"
        name = "basicAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
            return {
                "type": "http",
                "scheme": "basic",
                "description": "Introspection clients (INTROSPECTION_CLIENTS): id and secret, "
                "each form-encoded before Base64 (RFC 6749 section 2.3.1).",
            }
