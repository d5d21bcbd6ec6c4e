"""One limiter for every door that checks a secret: failed attempts count, successes never do.

Doors: sign-in through the API, the sign-in page, the admin's login and any other call of
``django.contrib.auth.authenticate()``; the API's password change; refresh; introspection.

- **What counts.** Failures only. A failed ``authenticate()`` sends ``user_login_failed``,
  and ``count_failed_sign_in`` (connected in ``apps.py``) counts it: per (address, username),
  per username and per address. authtokens sends the same signal when a password change
  gets a wrong old password, so one count covers every path, never two. Refresh counts
  refused refresh tokens per address; introspection counts refused client credentials per
  client id and per address.
- **When it is checked.** Before the secret is: a locked-out client costs one cache read
  and no password hashing. The views answer 429 with ``Retry-After``;
  ``FailureLimitBackend``, first in ``AUTHENTICATION_BACKENDS``, refuses any other
  ``authenticate()`` while locked (as django-axes does).
- **Where the counts live.** In the default cache, shared by every worker (Redis in
  production): fixed windows aligned on the clock, one key per counter and window, ``add``
  then ``incr`` (atomic in Redis), expiring with the window; ``Retry-After`` is the time
  left in the window of the fullest counter. Keys hold keyed digests, never a username or
  an address. If the cache fails, counts move into this process for ``REDIS_RETRY_INTERVAL``
  (limits per process, not none), logged once per outage.
- **Which address.** ``clients.client_ip`` only, so ``X-Forwarded-For`` counts only when
  ``TRUSTED_PROXY_COUNT`` says proxies set it. IPv6 clients count per /64 network, the
  block one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.translation import get_language, gettext, ngettext

from . import clock
from .clients import client_ip
from .conf import DEFAULTS, app_settings

logger = logging.getLogger("authtokens.limits")

try:  # the errors a django-redis cache raises when Redis is away
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import RedisError

    CACHE_ERRORS: tuple[type[Exception], ...] = (ConnectionInterrupted, RedisError, OSError)
except ImportError:  # pragma: no cover - without the redis extra
    CACHE_ERRORS = (OSError,)

SIGN_IN_PER_IP_AND_USERNAME = "sign_in_per_ip_and_username"
SIGN_IN_PER_USERNAME = "sign_in_per_username"
SIGN_IN_PER_IP = "sign_in_per_ip"
REFRESH_PER_IP = "refresh_per_ip"
INTROSPECTION_PER_CLIENT = "introspection_per_client"
INTROSPECTION_PER_IP = "introspection_per_ip"
NAMES = frozenset(DEFAULTS["FAILURE_LIMITS"])

UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
LIMIT_FORMAT = re.compile(r"(?P<count>[0-9]+)/(?P<times>[0-9]*)(?P<unit>s|min|h|d)")
KEY_PREFIX = "{authtokens}:limits:"  # the hash tag keeps them in one Redis Cluster slot
UNKNOWN_ADDRESS = "unknown"  # no usable address (a unix socket): one shared count, never none
IPV6_PREFIX = 64

# Attributes on the request: the sign-in check already made, and "refused while locked".
CHECKED = "_authtokens_sign_in_checked"
LOCKED = "_authtokens_sign_in_locked"

# Counts kept in this process while the shared cache is away: limits per process, not none.
_local = LocMemCache("authtokens-limits", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
_shared_cache_back_at = 0.0
_outage = False

T = TypeVar("T")


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


def reset() -> None:
    """Forget the counts kept in this process and any outage of the shared cache (tests)."""
    global _shared_cache_back_at, _outage
    _local.clear()
    _shared_cache_back_at, _outage = 0.0, False


# What is counted.


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


# Counting, in the shared cache or, while it is away, in this process.


def _key(counter: Counter, limit: Limit, now: float) -> str:
    digest = salted_hmac(
        "authtokens.limits", f"{counter.name}\n{counter.subject}", algorithm="sha256"
    ).hexdigest()[:32]
    window = int(now // limit.seconds)
    return f"{KEY_PREFIX}{counter.name}:{limit.seconds}:{window}:{digest}"


def _seconds_left(limit: Limit, now: float) -> int:
    """Whole seconds until the current window of ``limit`` ends; at least 1."""
    return max(1, math.ceil(limit.seconds - now % limit.seconds))


def _with_cache(operation: Callable[[BaseCache], T]) -> T:
    global _shared_cache_back_at, _outage
    if time.monotonic() < _shared_cache_back_at:
        return operation(_local)
    try:
        result = operation(caches["default"])
    except CACHE_ERRORS as error:
        _shared_cache_back_at = time.monotonic() + app_settings.REDIS_RETRY_INTERVAL.total_seconds()
        if not _outage:
            _outage = True
            logger.error(
                "Failure-limit cache unreachable (%s); counting per process.", type(error).__name__
            )
        return operation(_local)
    if _outage:
        _outage = False
        logger.warning("Failure-limit cache reachable again; counting in it.")
    return result


def _active(counters: Sequence[Counter]) -> list[tuple[Counter, Limit]]:
    limits = configured_limits()
    return [(c, limit) for c in counters if (limit := limits.get(c.name)) is not None]


def retry_after(counters: Sequence[Counter]) -> int | None:
    """Seconds until every full counter's window ends, or None when none is full."""
    active = _active(counters)
    if not active:
        return None
    now = clock.timestamp()
    keys = [_key(counter, limit, now) for counter, limit in active]
    counts: Mapping[str, Any] = _with_cache(lambda cache: cache.get_many(keys))
    waits = [
        _seconds_left(limit, now)
        for (_, limit), key in zip(active, keys, strict=True)
        if int(counts.get(key) or 0) >= limit.count
    ]
    return max(waits) if waits else None


def _increment(cache: BaseCache, key: str, timeout: int) -> None:
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: this failure starts a new count
        cache.add(key, 1, timeout=timeout)


def record_failure(counters: Sequence[Counter]) -> None:
    """Count one failure on each counter whose limit is in force."""
    active = _active(counters)
    if not active:
        return
    now = clock.timestamp()
    # Each key expires with its window (plus a second of slack for clocks between workers).
    entries = [(_key(c, limit, now), _seconds_left(limit, now) + 1) for c, limit in active]

    def increment_all(cache: BaseCache) -> None:
        for key, timeout in entries:
            _increment(cache, key, timeout)

    _with_cache(increment_all)


# Sign-in: the views' check, the backend and the signal receiver.


def sign_in_wait(request: Any, username: str) -> int | None:
    """Seconds until ``username`` may try a password again from this request, or None.

    The answer is kept on the request, so that ``FailureLimitBackend`` does not ask again
    within the same ``authenticate()``.
    """
    wait = retry_after(sign_in_counters(request, username))
    setattr(request, CHECKED, (username, wait))
    return wait


def _username_in(credentials: Mapping[str, Any]) -> Any:
    username = credentials.get("username")
    if username is None:
        username = credentials.get(get_user_model().USERNAME_FIELD)
    return username


class FailureLimitBackend(BaseBackend):
    """Refuses every ``authenticate()`` for a username that is locked out from this address.

    List it first in ``AUTHENTICATION_BACKENDS``: Django stops at its ``PermissionDenied``
    and hashes no password. It never lets anyone in; the next backend does that.
    """

    def authenticate(self, request: Any, **credentials: Any) -> None:
        username = _username_in(credentials)
        if not isinstance(username, str):
            return None
        checked = getattr(request, CHECKED, None) if request is not None else None
        if checked is not None and checked[0] == username:
            wait = checked[1]
        else:
            wait = retry_after(sign_in_counters(request, username))
        if wait is not None:
            if request is not None:
                setattr(request, LOCKED, True)  # the refusal is not one more failure
            raise PermissionDenied(f"Too many failed sign-in attempts; retry in {wait} s.")
        return None

    def get_user(self, user_id: Any) -> Any:
        # As ModelBackend: a session that names this backend (the test client's force_login
        # names the first one) still finds its user.
        return ModelBackend().get_user(user_id)


def count_failed_sign_in(
    sender: Any, credentials: Mapping[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """``user_login_failed`` receiver: one failure on the sign-in counters, never two."""
    if request is not None and getattr(request, LOCKED, False):
        return  # refused while locked: every counter that matters is already full
    username = _username_in(credentials)
    if not isinstance(username, str):
        return
    record_failure(sign_in_counters(request, username))
    if request is not None and hasattr(request, CHECKED):
        delattr(request, CHECKED)  # a later authenticate() in this request checks afresh


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
                sender=__name__, credentials={"username": username}, request=request
            )
        return response

    return wrapper
