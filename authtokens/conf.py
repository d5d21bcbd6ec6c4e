"""The ``AUTHTOKENS`` settings namespace: every default in one place, read live on each access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

# Every key is documented in README.md ("Settings"); checks/values.py validates the values.
DEFAULTS: dict[str, Any] = {
    # Value of the `iss` claim, and the only issuer accepted.
    "ISSUER": "authtokens",
    # None: one HS256 key derived from SECRET_KEY. Otherwise a list of
    # {"kid", "algorithm", "secret"} or {"kid", "algorithm", "private_key"/"public_key"}.
    "SIGNING_KEYS": None,
    # The kid that signs new tokens; None: the first key of SIGNING_KEYS.
    "ACTIVE_KID": None,
    # Audience of browser (web) tokens.
    "WEB_AUDIENCE": "web",
    # Audiences a native client may ask for, and those whose access tokens never expire.
    "NATIVE_AUDIENCES": (),
    "NON_EXPIRING_AUDIENCES": (),
    "WEB_ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    # Absolute cap on a web session, however often it is extended.
    "WEB_SESSION_MAX_LIFETIME": timedelta(days=1),
    "NATIVE_ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    # Lifetime of each refresh token from its issue; None: never expires.
    "REFRESH_TOKEN_LIFETIME": timedelta(days=90),
    "ROTATE_REFRESH_TOKENS": True,
    # A refresh token unused for longer than this is refused and its device signed out
    # (RFC 9700 section 4.14.2), even one that never expires; None: no idle limit.
    "REFRESH_IDLE_LIMIT": None,
    # An access token that never expires, unused for longer than this, is refused and its
    # device signed out (RFC 9700 section 4.14.2); use is written at most once per device per
    # tenth of it (at most a day) per process. 90 days: REFRESH_TOKEN_LIFETIME's default, so
    # no native app outlives it idle. None: no idle limit.
    "NON_EXPIRING_IDLE_LIMIT": timedelta(days=90),
    # A rotated refresh token replayed within this window is not treated as theft.
    "REFRESH_REUSE_GRACE": timedelta(seconds=10),
    # The device that changes its own password stays signed in (every other device is not).
    "KEEP_DEVICE_ON_PASSWORD_CHANGE": True,
    # Clock skew tolerated on exp, nbf and iat.
    "LEEWAY": timedelta(seconds=10),
    # Tokens longer than this are refused before any parsing.
    "MAX_TOKEN_LENGTH": 4096,
    # Dotted path of hook(user, device) -> dict of extra claims for every access token issued
    # (sign-in, extend, refresh); reserved names are refused (tokens.RESERVED_CLAIMS).
    "CLAIMS_HOOK": None,
    # Browser sessions (cookies.py). Secure may be off only for plain-HTTP development.
    "COOKIE_SECURE": True,
    "COOKIE_SAMESITE": "Lax",
    # None: "__Host-authtokens" when Secure, else "authtokens".
    "COOKIE_NAME": None,
    # Renew the cookie's token once less than this fraction of its lifetime remains.
    "COOKIE_RENEW_AT": 0.5,
    "REVOCATION_STORE": "authtokens.store.database.DatabaseStore",
    "REDIS_CACHE_ALIAS": "default",
    # The store's own connection (store/topology.py), or None to use CACHES[REDIS_CACHE_ALIAS]:
    # {"URL": "redis://..."}, {"SENTINELS": [(host, port), ...], "SERVICE_NAME": "mymaster"}
    # or {"CLUSTER": [(host, port), ...]}, each with optional "OPTIONS" for redis-py.
    "REDIS": None,
    # On a cluster: how many groups users are hashed into. Each group is one hash tag (one
    # slot) with its own warm marker, so a shard that loses its data is rebuilt alone.
    "REDIS_GROUPS": 256,
    # Replicas that must hold a revocation's copy (Redis WAIT) before it counts as mirrored,
    # and that a master must have connected before its mirror is trusted, so that a failover
    # or a deposed master never loses one. None: 1 with Sentinel or Cluster, else 0.
    "REDIS_MIN_REPLICAS": None,
    # How long a revocation waits for those replicas before its copy counts as failed.
    "REDIS_REPLICA_TIMEOUT": timedelta(milliseconds=100),
    # The {hash tag} keeps every key in one Redis Cluster slot, so that one script reads them.
    # v2: device keys also hold live devices and their owner (a v1 mirror is never read).
    "REDIS_KEY_PREFIX": "{authtokens}:v2:",
    # Resource servers allowed to introspect tokens (RFC 7662): {client_id: secret}.
    "INTROSPECTION_CLIENTS": {},
    # Proxies in front of the site that append to X-Forwarded-For: the client's address is
    # the Nth entry from the right. 0: REMOTE_ADDR only, so a client cannot pick its address.
    "TRUSTED_PROXY_COUNT": 0,
    # Failed attempts allowed per window ("count/[n]s|min|h|d") before 429 (limits); only
    # failures count. None disables one limit; FAILURE_LIMITS = None disables them all.
    "FAILURE_LIMITS": {
        # One client guessing one account: someone who forgot their password gets 10 tries,
        # then waits at most 15 minutes; an attacker gets 40 guesses an hour per address.
        "sign_in_per_ip_and_username": "10/15min",
        # Guessing one account from many addresses: at most 30 an hour, wherever they come
        # from (NIST SP 800-63B caps consecutive failures at 100). Above the per-client limit,
        # so it takes several addresses to lock the owner out.
        "sign_in_per_username": "30/h",
        # Trying many accounts from one address; generous, since an office or a carrier NAT
        # puts many people behind one address, and their successes never count.
        "sign_in_per_ip": "100/15min",
        # Refused refresh tokens per address (they cannot be guessed; this bounds the work).
        "refresh_per_ip": "60/min",
        # Refused introspection credentials. Per address below per client id, so that one
        # address cannot lock a resource server out; secrets are 32+ characters anyway.
        "introspection_per_client": "60/min",
        "introspection_per_ip": "30/min",
    },
    # How often each process checks that the Redis mirror can still be trusted.
    "REDIS_AUDIT_INTERVAL": timedelta(seconds=5),
    # After a Redis failure, go to the database for this long before trying Redis again.
    "REDIS_RETRY_INTERVAL": timedelta(seconds=5),
    # Keep each process's verdicts in memory, kept true by Redis's CLIENT TRACKING
    # invalidations (store/verdicts.py): no round trip for a check answered before. Off: another
    # process's revocation may then be accepted for up to REDIS_VERDICT_CACHE_BOUND.
    "REDIS_VERDICT_CACHE": False,
    # How old the proof that the invalidation stream is current may be before a cached verdict
    # is no longer served (a heartbeat renews it every quarter of this).
    "REDIS_VERDICT_CACHE_BOUND": timedelta(milliseconds=250),
}


class AppSettings:
    """Read ``settings.AUTHTOKENS[name]``, else the default, on every attribute access."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown authtokens setting: {name!r}")
        return getattr(settings, "AUTHTOKENS", {}).get(name, DEFAULTS[name])


app_settings = AppSettings()
