"""What a limit is: the ``FAILURE_LIMITS`` names, their ``"10/15min"`` rates, and a counter.

Pure values read from the settings: nothing here touches a cache or a request, so the
system checks (``checks.values``) can validate the settings without the rest of the limiter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..conf import DEFAULTS, app_settings

SIGN_IN_PER_IP_AND_USERNAME = "sign_in_per_ip_and_username"
SIGN_IN_PER_USERNAME = "sign_in_per_username"
SIGN_IN_PER_IP = "sign_in_per_ip"
REFRESH_PER_IP = "refresh_per_ip"
INTROSPECTION_PER_CLIENT = "introspection_per_client"
INTROSPECTION_PER_IP = "introspection_per_ip"
NAMES = frozenset(DEFAULTS["FAILURE_LIMITS"])

UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
LIMIT_FORMAT = re.compile(r"(?P<count>[0-9]+)/(?P<times>[0-9]*)(?P<unit>s|min|h|d)")


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


@dataclass(frozen=True)
class Counter:
    """One count of failures: ``name`` is a ``FAILURE_LIMITS`` key, ``subject`` what it counts."""

    name: str
    subject: str


def parse_limit(value: Any) -> Limit | None:
    """``"10/15min"`` -> 10 failures per 15 minutes (units ``s``, ``min``, ``h``, ``d``);
    ``None`` -> no limit. Raise ``ValueError`` for anything else."""
    if value is None:
        return None
    match = LIMIT_FORMAT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a limit like '10/15min' or '100/h'")
    count, times = int(match["count"]), int(match["times"] or 1)
    if count < 1 or times < 1:
        raise ValueError(f"{value!r}: the count and the period must be positive")
    return Limit(count, times * UNITS[match["unit"]])


def configured_limits() -> dict[str, Limit | None]:
    """Every limit in force: ``FAILURE_LIMITS`` over the defaults; all off when it is None."""
    configured = app_settings.FAILURE_LIMITS
    if configured is None:
        return {}
    merged = {**DEFAULTS["FAILURE_LIMITS"], **configured}
    return {name: parse_limit(merged[name]) for name in NAMES}
