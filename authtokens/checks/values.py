"""Checks of every AUTHTOKENS value: a bad one fails at start-up, not on a request reading it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..conf import DEFAULTS, app_settings
from ..keys import build_key_ring

LIFETIMES = (
    "WEB_ACCESS_TOKEN_LIFETIME",
    "WEB_SESSION_MAX_LIFETIME",
    "NATIVE_ACCESS_TOKEN_LIFETIME",
    "REFRESH_REUSE_GRACE",
    "LEEWAY",
    "REDIS_RETRY_INTERVAL",
    "REDIS_AUDIT_INTERVAL",
)


@register("authtokens")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """Validate every AUTHTOKENS value, so a bad one fails at start-up, not on a request."""
    user_settings = getattr(settings, "AUTHTOKENS", {})
    if not isinstance(user_settings, dict):
        return [Error("AUTHTOKENS must be a dict.", id="authtokens.E001")]
    errors: list[Error | Warning] = [
        Error(
            f"AUTHTOKENS has an unknown key {name!r}.",
            hint="See README, Settings.",
            id="authtokens.E002",
        )
        for name in sorted(set(user_settings) - set(DEFAULTS))
    ]
    errors += _check_lifetimes()
    errors += _check_audiences()
    try:
        build_key_ring(app_settings.SIGNING_KEYS, app_settings.ACTIVE_KID)
    except ImproperlyConfigured as error:
        errors.append(Error(str(error), id="authtokens.E005"))
    length = app_settings.MAX_TOKEN_LENGTH
    if type(length) is not int or length < 256:
        errors.append(
            Error("AUTHTOKENS MAX_TOKEN_LENGTH must be an int >= 256.", id="authtokens.E006")
        )
    errors += _check_limits()
    errors += _check_claims_hook()
    errors += _check_introspection_clients()
    errors += _check_cookies()
    try:
        import_string(app_settings.REVOCATION_STORE)
    except ImportError as error:
        errors.append(Error(f"AUTHTOKENS REVOCATION_STORE: {error}", id="authtokens.E007"))
    return errors


def _check_lifetimes() -> Iterable[Error | Warning]:
    for name in LIFETIMES:
        value = getattr(app_settings, name)
        if not isinstance(value, timedelta) or value < timedelta(0):
            yield Error(
                f"AUTHTOKENS {name} must be a non-negative timedelta.", id="authtokens.E003"
            )
    for name in ("REFRESH_IDLE_LIMIT", "NON_EXPIRING_IDLE_LIMIT"):
        idle = getattr(app_settings, name)
        if idle is not None and (not isinstance(idle, timedelta) or idle <= timedelta(0)):
            yield Error(
                f"AUTHTOKENS {name} must be a positive timedelta or None.",
                id="authtokens.E003",
            )
    refresh = app_settings.REFRESH_TOKEN_LIFETIME
    if refresh is not None and (not isinstance(refresh, timedelta) or refresh <= timedelta(0)):
        yield Error(
            "AUTHTOKENS REFRESH_TOKEN_LIFETIME must be a positive timedelta or None.",
            id="authtokens.E003",
        )
    access, session = app_settings.WEB_ACCESS_TOKEN_LIFETIME, app_settings.WEB_SESSION_MAX_LIFETIME
    if isinstance(access, timedelta) and isinstance(session, timedelta) and access > session:
        yield Warning(
            "AUTHTOKENS WEB_ACCESS_TOKEN_LIFETIME is longer than WEB_SESSION_MAX_LIFETIME; "
            "web tokens will end at the session maximum.",
            id="authtokens.W001",
        )


def _check_cookies() -> Iterable[Error | Warning]:
    if app_settings.COOKIE_SAMESITE not in {"Lax", "Strict"}:
        yield Error("AUTHTOKENS COOKIE_SAMESITE must be 'Lax' or 'Strict'.", id="authtokens.E009")
    fraction = app_settings.COOKIE_RENEW_AT
    if not isinstance(fraction, int | float) or not 0 < fraction < 1:
        yield Error(
            "AUTHTOKENS COOKIE_RENEW_AT must be a fraction between 0 and 1.", id="authtokens.E009"
        )
    if not app_settings.COOKIE_SECURE and not settings.DEBUG:
        yield Warning(
            "AUTHTOKENS COOKIE_SECURE is off with DEBUG off: token cookies would travel over "
            "plain HTTP.",
            hint="Turn it on and serve the site over HTTPS.",
            id="authtokens.W020",
        )


def _check_limits() -> Iterable[Error]:
    from ..limits import NAMES, parse_limit

    limits = app_settings.FAILURE_LIMITS
    if limits is not None and not isinstance(limits, dict):
        limits = {"": limits}
    for name, value in (limits or {}).items():
        try:
            if name not in NAMES:
                raise ValueError(f"unknown limit {name!r}")
            parse_limit(value)
        except ValueError as error:
            yield Error(
                f"AUTHTOKENS FAILURE_LIMITS: {error}.",
                hint=f"A dict with keys among {', '.join(sorted(NAMES))}; values like "
                "'10/15min' or None. See README, Settings.",
                id="authtokens.E008",
            )
    proxies = app_settings.TRUSTED_PROXY_COUNT
    if type(proxies) is not int or proxies < 0:
        yield Error("AUTHTOKENS TRUSTED_PROXY_COUNT must be an int >= 0.", id="authtokens.E012")


def _check_claims_hook() -> Iterable[Error]:
    path = app_settings.CLAIMS_HOOK
    if path is None:
        return
    try:
        hook = import_string(path) if isinstance(path, str) else None
    except ImportError as error:
        yield Error(f"AUTHTOKENS CLAIMS_HOOK: {error}", id="authtokens.E014")
        return
    if not callable(hook):
        yield Error(
            "AUTHTOKENS CLAIMS_HOOK must be None or the dotted path of a callable "
            "hook(user, device) -> dict.",
            hint="See README, Custom claims.",
            id="authtokens.E014",
        )


MIN_CLIENT_SECRET_LENGTH = 32


def _check_introspection_clients() -> Iterable[Error]:
    clients = app_settings.INTROSPECTION_CLIENTS
    if not isinstance(clients, dict):
        yield Error(
            "AUTHTOKENS INTROSPECTION_CLIENTS must be a dict {client_id: secret}.",
            id="authtokens.E013",
        )
        return
    for client_id, secret in clients.items():
        if not isinstance(secret, str) or len(secret) < MIN_CLIENT_SECRET_LENGTH:
            yield Error(
                f"AUTHTOKENS INTROSPECTION_CLIENTS: the secret of {client_id!r} must be a "
                f"string of at least {MIN_CLIENT_SECRET_LENGTH} characters.",
                hint="For example: python -c 'import secrets; print(secrets.token_urlsafe())'",
                id="authtokens.E013",
            )


def _check_audiences() -> Iterable[Error]:
    native, non_expiring = app_settings.NATIVE_AUDIENCES, app_settings.NON_EXPIRING_AUDIENCES
    if isinstance(native, str) or isinstance(non_expiring, str):
        yield Error(
            "AUTHTOKENS audiences must be lists of strings, not a string.", id="authtokens.E004"
        )
        return
    if not set(non_expiring) <= set(native):
        yield Error(
            "AUTHTOKENS NON_EXPIRING_AUDIENCES must be listed in NATIVE_AUDIENCES.",
            id="authtokens.E004",
        )
    if app_settings.WEB_AUDIENCE in native:
        yield Error("AUTHTOKENS WEB_AUDIENCE must not be a native audience.", id="authtokens.E004")
