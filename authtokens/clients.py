"""What we record about a client: a readable User-Agent summary and a valid IP address."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ua_parser import parse

from .conf import app_settings


@lru_cache(maxsize=1024)
def summarize(user_agent: str) -> str:
    """Return "Chrome 156 on Linux" for a browser's header, or the header itself, shortened."""
    result = parse(user_agent) if user_agent else None
    browser = result.user_agent if result else None
    if browser is None:
        return user_agent[:60] or "Unknown"
    name = f"{browser.family} {browser.major}" if browser.major else browser.family
    system = result.os.family if result and result.os else None
    return f"{name} on {system}" if system and system != "Other" else name


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
