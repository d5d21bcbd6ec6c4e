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

One module per responsibility, each importing only those above it (no cycle):

- ``rules``: the limit names, their rates, ``Limit`` and ``Counter``;
- ``client``: the client's address and the counters of each door;
- ``counts``: counting and waits in the cache or the process, ``reset()``;
- ``backend``: the sign-in check, ``FailureLimitBackend`` and the signal receiver;
- ``views``: the wrappers of Django's views and the 429 page.

Every name stays importable from ``authtokens.limits``, where the settings
(``"authtokens.limits.FailureLimitBackend"``) and the callers look for it.
"""

from .backend import (
    CHECKED,
    LOCKED,
    FailureLimitBackend,
    count_failed_sign_in,
    sign_in_wait,
)
from .client import (
    IPV6_PREFIX,
    UNKNOWN_ADDRESS,
    introspection_counters,
    refresh_counters,
    sign_in_counters,
)
from .counts import CACHE_ERRORS, KEY_PREFIX, logger, record_failure, reset, retry_after
from .rules import (
    INTROSPECTION_PER_CLIENT,
    INTROSPECTION_PER_IP,
    LIMIT_FORMAT,
    NAMES,
    REFRESH_PER_IP,
    SIGN_IN_PER_IP,
    SIGN_IN_PER_IP_AND_USERNAME,
    SIGN_IN_PER_USERNAME,
    UNITS,
    Counter,
    Limit,
    configured_limits,
    parse_limit,
)
from .views import describe_wait, limit_password_change, limit_sign_in, too_many_attempts_page

__all__ = [
    "CACHE_ERRORS",
    "CHECKED",
    "INTROSPECTION_PER_CLIENT",
    "INTROSPECTION_PER_IP",
    "IPV6_PREFIX",
    "KEY_PREFIX",
    "LIMIT_FORMAT",
    "LOCKED",
    "NAMES",
    "REFRESH_PER_IP",
    "SIGN_IN_PER_IP",
    "SIGN_IN_PER_IP_AND_USERNAME",
    "SIGN_IN_PER_USERNAME",
    "UNITS",
    "UNKNOWN_ADDRESS",
    "Counter",
    "FailureLimitBackend",
    "Limit",
    "configured_limits",
    "count_failed_sign_in",
    "describe_wait",
    "introspection_counters",
    "limit_password_change",
    "limit_sign_in",
    "logger",
    "parse_limit",
    "record_failure",
    "refresh_counters",
    "reset",
    "retry_after",
    "sign_in_counters",
    "sign_in_wait",
    "too_many_attempts_page",
]
