"""A readable summary of a User-Agent header, for people telling their devices apart."""

from __future__ import annotations

from functools import lru_cache

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
