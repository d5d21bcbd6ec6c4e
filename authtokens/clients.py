"""What we record about a client: names people recognise from its User-Agent, and its IP.

A User-Agent is a claim the client makes about itself: it names a device for its owner's
convenience and is never trusted for anything else.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _
from ua_parser import parse

from .conf import app_settings

# Every browser since the 1990s opens its User-Agent with one of these.
BROWSER_PREFIXES = ("Mozilla/", "Opera/")
# Products that name an HTTP stack, not the app using it (Android's and Apple's defaults).
HTTP_STACKS = frozenset({"Dalvik", "okhttp", "CFNetwork", "Darwin", "Apache-HttpClient"})
PRODUCT = re.compile(r"^([A-Za-z][\w.+-]{0,39})(?:/(\d+(?:\.\d+)?))?")


@dataclass(frozen=True)
class ClientDescription:
    """What a User-Agent says: its kind ("Browser", "App", "Script or tool") and names."""

    kind: Any  # a lazy translation
    name: str  # "Chrome on Linux", "ShopApp on iOS", "curl": a device's default name
    detail: str  # the name with a version: "Chrome 126 on Linux", "ShopApp 2.3 on iOS"


BROWSER, APP, TOOL, UNKNOWN = _("Browser"), _("App"), _("Script or tool"), _("Unknown")


@lru_cache(maxsize=1024)
def _parse(user_agent: str) -> tuple[bool, str, str | None, str | None, str | None, str | None]:
    """(is a browser, family, major version, system, product, product version), cached."""
    result = parse(user_agent)
    system = result.os.family if result.os and result.os.family != "Other" else None
    browser = result.user_agent
    if user_agent.startswith(BROWSER_PREFIXES) and browser is not None:
        return True, browser.family, browser.major, system, None, None
    match = PRODUCT.match(user_agent)
    product, version = (match.group(1), match.group(2)) if match else (None, None)
    return False, "", None, system, product, version


def describe(user_agent: str) -> ClientDescription:
    """Tell a browser ("Chrome on Linux") from an app ("ShopApp on iOS") and a script ("curl")."""
    if not user_agent:
        return ClientDescription(UNKNOWN, "", "")
    is_browser, family, major, system, product, version = _parse(user_agent)
    if is_browser:
        detail = f"{family} {major}" if major else family
        return ClientDescription(BROWSER, _on(family, system), _on(detail, system))
    if system is None:  # no platform named: curl, python-requests, a cron job
        name = product or user_agent[:40]
        return ClientDescription(TOOL, name, f"{name} {version}" if version else name)
    app = None if product in HTTP_STACKS else product
    if app is None:  # Android's or Apple's default stack: the platform is all we know
        name = _on(str(APP), system)
        return ClientDescription(APP, name, name)
    detail = f"{app} {version}" if version else app
    return ClientDescription(APP, _on(app, system), _on(detail, system))


def _on(name: str, system: str | None) -> str:
    if system is None or name.endswith(f" on {system}"):
        return name
    return f"{name} on {system}"


def summarize(user_agent: str) -> str:
    """Return "Chrome 126 on Linux", "ShopApp 2.3 on iOS" or "curl 8.5" for a User-Agent."""
    return describe(user_agent).detail or str(UNKNOWN)


def client_ip(meta: Mapping[str, Any]) -> str | None:
    """Return the client's IP address, or None if there is no valid one (a unix socket).

    The only place that reads it, for failure limits and device records alike. With
    ``TRUSTED_PROXY_COUNT`` = N > 0, N proxies each append the address they saw to
    ``X-Forwarded-For``, so the Nth entry from the right is the client's (as DRF's
    ``NUM_PROXIES`` and django-ipware's proxy count read it); entries further left were written
    by the client and are never read. With 0 (the default), or no such header, ``REMOTE_ADDR``.
    """
    address = meta.get("REMOTE_ADDR") or ""
    proxies = app_settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            address = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
