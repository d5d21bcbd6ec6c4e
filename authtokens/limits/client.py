"""Who is counted: the client's address and the counters of each door.

The address comes from ``clients.client_ip`` only, so ``X-Forwarded-For`` counts only when
``TRUSTED_PROXY_COUNT`` says proxies set it: a client cannot move its failures to another
counter by sending the header itself. IPv6 clients count per /64 network, the block one
subscriber usually holds, so that hopping within it escapes nothing.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from typing import Any

from ..clients import client_ip
from .rules import (
    INTROSPECTION_PER_CLIENT,
    INTROSPECTION_PER_IP,
    REFRESH_PER_IP,
    SIGN_IN_PER_IP,
    SIGN_IN_PER_IP_AND_USERNAME,
    SIGN_IN_PER_USERNAME,
    Counter,
)

UNKNOWN_ADDRESS = "unknown"  # no usable address (a unix socket): one shared count, never none
IPV6_PREFIX = 64


def _address(ip: str | None) -> str:
    if ip is None:
        return UNKNOWN_ADDRESS
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def _username(username: str) -> str:
    """One count for the spellings one account answers to: NFKC, no outer spaces, any case."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def sign_in_counters(request: Any, username: str) -> list[Counter]:
    """The counters of a password check for ``username``; without a request, per username."""
    name = _username(username)
    if request is None:
        return [Counter(SIGN_IN_PER_USERNAME, name)]
    address = _address(client_ip(request.META))
    return [
        Counter(SIGN_IN_PER_IP_AND_USERNAME, f"{address}\n{name}"),
        Counter(SIGN_IN_PER_USERNAME, name),
        Counter(SIGN_IN_PER_IP, address),
    ]


def refresh_counters(request: Any) -> list[Counter]:
    return [Counter(REFRESH_PER_IP, _address(client_ip(request.META)))]


def introspection_counters(request: Any, client_id: str | None) -> list[Counter]:
    counters = [Counter(INTROSPECTION_PER_IP, _address(client_ip(request.META)))]
    if client_id is not None:
        counters.append(Counter(INTROSPECTION_PER_CLIENT, client_id))
    return counters
