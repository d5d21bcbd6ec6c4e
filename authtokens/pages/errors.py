"""Error pages in the site's style, each with a way back; JSON under the API, as before.

Point the project at them: ``handler403``/``handler404``/``handler500`` in the root URLconf
and ``CSRF_FAILURE_VIEW = "authtokens.pages.errors.csrf_failure"`` (the demo does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext_lazy as _

from .. import errors
from .session import signed_in

TEXTS = {
    400: (_("Bad request"), _("The page could not understand that request.")),
    403: (_("Not allowed"), _("You are not allowed to see this page.")),
    404: (_("Page not found"), _("There is no page at this address.")),
    405: (_("Not a page to open"), _("This address only takes a form's button press.")),
    429: (_("Too many attempts"), _("Too many failed attempts.")),
    500: (_("Something went wrong"), _("Something went wrong on our side. Please try again.")),
}
CSRF_TEXT = _(
    "The form expired or was sent from another site. Go back, reload the page and try again."
)


def error_page(
    request: HttpRequest | None, status: int, detail: Any = None, **extra: Any
) -> HttpResponse:
    """Render the styled page for ``status``; without a request for a 500 (nothing to trust)."""
    title, text = TEXTS[status]
    if request is not None:
        _show_who(request)
    context = {"status": status, "title": title, "detail": detail or text, **extra}
    body = loader.render_to_string("authtokens/error.html", context, request=request)
    return HttpResponse(body, status=status)


def _show_who(request: HttpRequest) -> None:
    """Let the page's header offer the signed-in user's links, if the cookie is good."""
    try:
        signed_in(request)
    except Exception:  # noqa: BLE001  an error page must render whatever the cookie does
        return


def _api_json(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``."""
    if errors._is_api(request):
        return _api_json(400, "bad_request", "Bad request.")
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``."""
    if errors._is_api(request):
        return _api_json(403, "permission_denied", "You do not have permission.")
    return error_page(request, 403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: the API's JSON from ``authtokens.errors``, a styled page elsewhere."""
    if errors._is_api(request):
        return errors.not_found(request, exception)
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: rendered without the request, whose state may be what broke."""
    if errors._is_api(request):
        return errors.server_error(request)
    try:
        return error_page(None, 500)
    except Exception:  # noqa: BLE001  a broken template must not hide the original error
        return errors.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a styled 403 that says what to do; JSON under the API."""
    if errors._is_api(request):
        return _api_json(403, "csrf_failed", "CSRF check failed.")
    return error_page(request, 403, CSRF_TEXT, title=_("The form expired"))


def method_not_allowed(request: HttpRequest, allowed: Iterable[str]) -> HttpResponse:
    """A styled 405 with its ``Allow`` header (RFC 9110 section 15.5.6)."""
    response = error_page(request, 405)
    response["Allow"] = ", ".join(allowed)
    return response


def post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``require_POST`` with the styled 405 page instead of an empty body."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return method_not_allowed(request, ["POST"])
        return view(request, *args, **kwargs)

    return wrapper
