"""Django views under the limits: the wrappers for login and password-change views, and the
429 page they answer with while a user is locked out.

For views authtokens does not write (the admin's, Django's ``LoginView`` and
``PasswordChangeView``); authtokens' own views call ``sign_in_wait`` directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.utils.translation import get_language, gettext, ngettext

from .backend import sign_in_wait

# The sender of the user_login_failed this module sends: the package's name, as before the
# split, so receivers that filter on it still match.
SENDER = "authtokens.limits"


def describe_wait(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if seconds < 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def too_many_attempts_page(wait: int) -> HttpResponse:
    """The HTML answer of a sign-in page while locked: 429 with ``Retry-After``."""
    text = escape(
        gettext("Too many failed attempts. Please try again in %(wait)s.")
        % {"wait": describe_wait(wait)}
    )
    title = escape(gettext("Too many attempts"))
    body = (
        f'<!doctype html><html lang="{escape(get_language() or "en")}"><head>'
        f'<meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{text}</p></body></html>"
    )
    response = HttpResponse(body, status=429, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response


def limit_sign_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a login view that posts ``username`` (the admin's, Django's ``LoginView``): while
    that username is locked out from this address, answer 429 before any password check."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            wait = sign_in_wait(request, request.POST.get("username", ""))
            if wait is not None:
                return too_many_attempts_page(wait)
        return view(request, *args, **kwargs)

    return wrapper


def limit_password_change(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a password-change view of Django's kind (``PasswordChangeView``, the admin's
    ``password_change``): a wrong old password is a failed sign-in of the signed-in user,
    counted like any other, and while that user is locked out the view answers 429 first.

    Django's form checks the old password with ``check_password()``, which sends no signal;
    the wrapper reads the form's verdict from the ``TemplateResponse`` the view answers with.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = getattr(request, "user", None)
        if request.method != "POST" or user is None or not user.is_authenticated:
            return view(request, *args, **kwargs)
        username = user.get_username()
        wait = sign_in_wait(request, username)
        if wait is not None:
            return too_many_attempts_page(wait)
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and "old_password" in form.errors:
            user_login_failed.send(
                sender=SENDER, credentials={"username": username}, request=request
            )
        return response

    return wrapper
