"""What we record about a client: a readable User-Agent summary and a valid IP address."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ua_parser import parse


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
    """Return ``REMOTE_ADDR`` if it is an IP address (a unix socket gives ""), else None.

    Behind a proxy, have it set REMOTE_ADDR (or a middleware that trusts it do so): a
    client-supplied X-Forwarded-For is never read here.
    """
    address = meta.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
