"""The HTTP edge: domain errors to DRF exceptions, and one error body for every response.

Every error body is ``{"code": ..., "detail": ...}`` (validation errors add ``errors``), and
every 401 carries an RFC 6750 section 3 ``WWW-Authenticate`` challenge. DRF views answer their
errors through ``exception_handler``; ``not_found`` and ``server_error`` are Django's
``handler404`` and ``handler500`` for the rest (a path no view matches, an unhandled exception):
JSON under the prefix where the API is mounted, Django's own pages elsewhere.
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
from rest_framework import status
from rest_framework.response import Response

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


class UnavailableError(drf.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def _status_for(error: domain.AuthTokensError) -> int:
    if isinstance(error, domain.NotTokenOwner):
        return status.HTTP_403_FORBIDDEN
    if isinstance(error, domain.NotExtendable):
        return status.HTTP_400_BAD_REQUEST
    return status.HTTP_401_UNAUTHORIZED


def to_api_exception(error: domain.AuthTokensError) -> drf.APIException:
    """Return the DRF exception that answers ``error`` over HTTP."""
    if isinstance(error, domain.TokenError):
        refused = InvalidToken(error.detail, error.code)  # in the request's language
        with translation.override("en"):
            refused.description = str(error.detail)
        return refused
    if isinstance(error, domain.StoreUnavailable):
        return UnavailableError(error.detail, error.code)
    api_error = drf.APIException(error.detail, error.code)
    api_error.status_code = _status_for(error)
    return api_error


def bearer_challenge(error: drf.APIException | None = None) -> str:
    """Return a ``WWW-Authenticate`` value; name the error only when a token was refused."""
    if isinstance(error, InvalidToken):
        description = ERROR_DESCRIPTION_UNSAFE.sub("", error.description or str(error.detail))
        return f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
    return f'Bearer realm="{REALM}"'


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer every handled error with the one body shape; leave the rest to Django (500)."""
    # Imported here: rest_framework.views imports the authentication classes, which import us.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, domain.AuthTokensError):
        exc = to_api_exception(exc)
    elif isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, OperationalError | InterfaceError):
        # The database is away (a restart, a failover): say so and when to retry, not 500.
        logger.error("Database unavailable: %s", type(exc).__name__)
        exc = to_api_exception(domain.StoreUnavailable())
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, drf.APIException):
        return response
    response.data = error_body(exc)
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = getattr(exc, "challenge", None) or bearer_challenge(exc)
    if response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def error_body(exc: drf.APIException) -> dict[str, Any]:
    if isinstance(exc, drf.ValidationError):
        return {
            "code": "invalid",
            "detail": gettext("The request body is invalid."),
            "errors": exc.detail,
        }
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
    code = exc.get_codes()
    return {"code": code if isinstance(code, str) else exc.default_code, "detail": str(detail)}


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
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the one error shape under the API, Django's page elsewhere."""
    if _is_api(request):
        body = {"code": "server_error", "detail": "Something went wrong on our side."}
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
