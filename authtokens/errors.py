"""The HTTP edge: domain errors to DRF exceptions, and one error body for every response.

Each domain error carries its status and code (``exceptions.py``); this module is the one
place that turns them into responses. Every error body is ``{"code": ..., "detail": ...}``
(validation errors add ``errors``), rendered by ``ErrorSerializer``, which also documents it,
and every 401 carries a ``WWW-Authenticate`` challenge (RFC 6750 section 3 for Bearer). DRF
views answer their errors through ``exception_handler``; ``not_found`` and ``server_error``
are Django's ``handler404`` and ``handler500`` for the rest (a path no view matches, an
unhandled exception): JSON under the prefix where the API is mounted, Django's own pages
elsewhere.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from . import exceptions as domain

logger = logging.getLogger("authtokens.errors")
REALM = "api"
RETRY_AFTER_SECONDS = 5
# RFC 6750 section 3: error_description is %x20-21 / %x23-5B / %x5D-7E (no '"', no '\').
ERROR_DESCRIPTION_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


class InvalidToken(drf.AuthenticationFailed):
    """A presented token was refused: 401 with ``error="invalid_token"``.

    ``description`` is the detail in English, for the ``WWW-Authenticate`` header: RFC 6750
    section 3 allows only printable ASCII there, whatever language the body is in.
    """

    description = ""


class ErrorSerializer(serializers.Serializer):
    """The one shape of every error body: it documents them (OpenAPI) and renders them."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Declared here: a field named "errors" would shadow Serializer.errors as an attribute.
        return {
            "code": serializers.CharField(help_text="Stable, machine-readable error code."),
            "detail": serializers.CharField(help_text="Human-readable explanation."),
            "errors": serializers.DictField(
                required=False, help_text="Validation errors, by field (400 only)."
            ),
        }


def to_api_exception(error: domain.AuthTokensError) -> drf.APIException:
    """Return the DRF exception that answers ``error``, with the status its class carries.

    A 401 is an ``AuthenticationFailed``, so that DRF asks the view's authentication class
    for its challenge (``authenticate_header``) when one raises it.
    """
    if isinstance(error, domain.TokenError):
        refused = InvalidToken(error.detail, error.code)  # in the request's language
        with translation.override("en"):
            refused.description = str(error.detail)
        return refused
    if error.status_code == status.HTTP_401_UNAUTHORIZED:
        return drf.AuthenticationFailed(error.detail, error.code)
    api_error = drf.APIException(error.detail, error.code)
    api_error.status_code = error.status_code
    return api_error


def bearer_challenge(error: drf.APIException | None = None) -> str:
    """Return a ``WWW-Authenticate`` value; name the error only when a token was refused."""
    if isinstance(error, InvalidToken):
        description = ERROR_DESCRIPTION_UNSAFE.sub("", error.description or str(error.detail))
        return f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
    return f'Bearer realm="{REALM}"'


def challenge(exc: drf.APIException) -> str:
    """The challenge of a 401: a refused token's, else the view's scheme's, else Bearer."""
    if isinstance(exc, InvalidToken):
        return bearer_challenge(exc)
    # DRF sets auth_header from the view's first authentication class when one of them, or
    # a permission, refused the request (``Basic realm="introspection"``, say).
    return getattr(exc, "auth_header", None) or bearer_challenge()


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, domain.AuthTokensError):
        return to_api_exception(exc)
    if isinstance(exc, Http404):
        return drf.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return drf.PermissionDenied()
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is away (a restart, a failover): say so and when to retry, not 500.
        logger.error("Database unavailable: %s", type(exc).__name__)
        return to_api_exception(domain.StoreUnavailable())
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every handled error with the one body shape; leave the rest to Django (500)."""
    # Imported here: rest_framework.views imports the authentication classes, which import us.
    from rest_framework.views import exception_handler as drf_exception_handler

    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, drf.APIException):
        return response
    response.data = error_body(exc)
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = challenge(exc)
    if response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def error_body(exc: drf.APIException) -> dict[str, Any]:
    """Render ``exc`` as the one error shape, through ``ErrorSerializer``."""
    if isinstance(exc, drf.ValidationError):
        by_field = exc.detail
        if not isinstance(by_field, dict):  # raised with a message, not a serializer's errors
            by_field = {api_settings.NON_FIELD_ERRORS_KEY: by_field}
        body = {"code": "invalid", "detail": gettext("The request body is invalid.")}
        return ErrorSerializer({**body, "errors": by_field}).data
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
    code = exc.get_codes()
    body = {"code": code if isinstance(code, str) else exc.default_code, "detail": str(detail)}
    return ErrorSerializer(body).data


# The API's URL names: under ``authtokens.urls.api``, or the 0.1 layout of ``authtokens.urls``.
API_NAMESPACES = ("authtokens_api", "authtokens")
API_MARKER = "me"  # a route every mount of the API has; its path minus "me/" is the prefix


def api_prefixes() -> list[str]:
    """The paths under which the current URLconf mounts the API (``["/api/"]``, say)."""
    prefixes = []
    for namespace in API_NAMESPACES:
        try:
            marker = reverse(f"{namespace}:{API_MARKER}")
        except NoReverseMatch:
            continue
        if marker.endswith(f"{API_MARKER}/"):
            prefixes.append(marker.removesuffix(f"{API_MARKER}/"))
    return prefixes


def _is_api(request: HttpRequest) -> bool:
    try:
        return any(request.path.startswith(prefix) for prefix in api_prefixes())
    except Exception:  # noqa: BLE001  an error page must not fail on a broken URLconf
        return False


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: the one error shape under the API, Django's page elsewhere."""
    if _is_api(request):
        body = ErrorSerializer({"code": "not_found", "detail": "Not found."}).data
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the one error shape under the API, Django's page elsewhere."""
    if _is_api(request):
        body = {"code": "server_error", "detail": "Something went wrong on our side."}
        return JsonResponse(ErrorSerializer(body).data, status=500)
    return defaults.server_error(request)
