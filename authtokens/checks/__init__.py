"""System checks for the AUTHTOKENS settings and what they rely on, one module per concern:

- ``signing``: no token signed with a key derived from a development SECRET_KEY (refused at
  start-up, not only reported);
- ``values``: every AUTHTOKENS value, so a bad one fails at start-up, not on a request;
- ``deployment``: the project settings around the app (a shared cache, the limits backend);
- ``store``: the Redis that the Redis revocation store relies on.

Importing this package registers every check (``AppConfig.ready()`` does); the names stay
importable from ``authtokens.checks``.
"""

from .deployment import (
    LIMITS_BACKEND,
    PROCESS_LOCAL_CACHES,
    check_limits_backend,
    check_shared_cache,
)
from .signing import is_development_secret, refuse_development_signing_key
from .store import EVICTING_POLICIES_OK, REDIS_STORE, check_redis
from .values import LIFETIMES, MIN_CLIENT_SECRET_LENGTH, check_settings

__all__ = [
    "EVICTING_POLICIES_OK",
    "LIFETIMES",
    "LIMITS_BACKEND",
    "MIN_CLIENT_SECRET_LENGTH",
    "PROCESS_LOCAL_CACHES",
    "REDIS_STORE",
    "check_limits_backend",
    "check_redis",
    "check_settings",
    "check_shared_cache",
    "is_development_secret",
    "refuse_development_signing_key",
]
