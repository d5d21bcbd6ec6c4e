"""OpenAPI with drf-spectacular (optional): security schemes and error responses.

``apps.py`` imports this module when drf-spectacular is installed, which registers the three
authentication extensions; views use ``extend_schema`` from here, a no-op without it. The
response shapes are the serializers that render the responses (``serializers.py``,
``introspection.py``, ``errors.py``), so what is documented is what is sent. The schema
needs no SPECTACULAR_SETTINGS of the project: ``manage.py spectacular --validate
--fail-on-warn`` passes with none (a test runs it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ErrorSerializer

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


def errors(*statuses: int) -> dict[int, Any]:
    """Document the error responses of a view, all with the one error shape.

    415 (``unsupported_media_type``) is documented on every operation: DRF's parsers answer it
    for a body of a media type they do not take (or whose type header they cannot read), on
    any operation that reads a body, before the view runs."""
    if OpenApiResponse is None:  # pragma: no cover
        return {}
    return {status: OpenApiResponse(ErrorSerializer) for status in (*statuses, 415)}


if OpenApiAuthenticationExtension is not None:

    class BearerScheme(OpenApiAuthenticationExtension):
        target_class = "authtokens.authentication.JWTAuthentication"
        name = "bearerAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
            return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

    class CookieScheme(OpenApiAuthenticationExtension):
        target_class = "authtokens.authentication.CookieAuthentication"
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
        target_class = "authtokens.introspection.IntrospectionClientAuthentication"
        name = "basicAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
            return {
                "type": "http",
                "scheme": "basic",
                "description": "Introspection clients (INTROSPECTION_CLIENTS): id and secret, "
                "each form-encoded before Base64 (RFC 6749 section 2.3.1).",
            }
