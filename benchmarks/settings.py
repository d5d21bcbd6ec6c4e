"""Settings of the benchmark servers: the demo project, the peers' apps, one view per scheme.

Environment:
- BENCH_DATABASE_URL: sqlite:////tmp/authtokens-bench.sqlite3 (default) or
  postgres://postgres@127.0.0.1:5432/bench
- BENCH_STORE: "redis" (authtokens.store.redis.RedisStore, default), "redis-cached",
  "redis-cluster" (the same store on the Redis Cluster of BENCH_CLUSTER) or "database"
- BENCH_CLUSTER: host:port,host:port,... of the cluster the harness started (benchmarks/cluster.py)
- BENCH_REDIS_URL: redis://127.0.0.1:6379/14 (default; never database 15, the tests' one)
"""

import os
from datetime import timedelta

# DEBUG off: with DEBUG on Django records every query, which skews every scheme that queries.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "s" * 40)
# One HS256 key of 32 bytes, as simplejwt gets below: same algorithm, same key length.
os.environ.setdefault("AUTHTOKENS_SIGNING_KEY", "b" * 32)

import dj_database_url  # noqa: E402

from project.settings import *  # noqa: E402, F403
from project.settings import AUTHTOKENS as PROJECT_AUTHTOKENS  # noqa: E402
from project.settings import INSTALLED_APPS as PROJECT_APPS  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "benchmarks.urls"
WSGI_APPLICATION = "benchmarks.wsgi.application"

INSTALLED_APPS = [
    *PROJECT_APPS,
    "rest_framework.authtoken",
    "knox",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
]

# A lean stack, the same for every scheme, so that the authentication cost is not drowned in
# middleware that the benchmark views do not need (DRF views are CSRF-exempt anyway).
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
# The admin is installed (authtokens' admin module imports it) but not routed here.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "sqlite:////tmp/authtokens-bench.sqlite3")
# Persistent connections, no per-request health check (it would add a SELECT 1 to every
# request of the schemes that touch the database, and to none of the others).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
if REDIS_URL.rstrip("/").endswith("/15"):
    raise RuntimeError("Redis database 15 belongs to the test suite; benchmark on another one.")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}

STORES = {
    "redis": "authtokens.store.redis.RedisStore",
    "redis-cached": "authtokens.store.redis.RedisStore",  # with REDIS_VERDICT_CACHE on
    "redis-cluster": "authtokens.store.redis.RedisStore",  # with REDIS on the cluster
    "database": "authtokens.store.database.DatabaseStore",
}
BENCH_STORE = os.environ.get("BENCH_STORE", "redis")
# The cluster the harness started for this run, if any: the store's REDIS setting for it. The
# timeouts are the ones the deployment docs suggest, so that the figure is one a site would see.
CLUSTER_REDIS = (
    {
        "CLUSTER": [
            (host, int(port))
            for host, port in (n.rsplit(":", 1) for n in os.environ["BENCH_CLUSTER"].split(","))
        ],
        "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    }
    if os.environ.get("BENCH_CLUSTER")
    else None
)
if BENCH_STORE == "redis-cluster" and CLUSTER_REDIS is None:
    raise RuntimeError("BENCH_STORE=redis-cluster needs BENCH_CLUSTER (benchmarks/cluster.py)")


def store_settings(name: str) -> dict:
    """What AUTHTOKENS changes for store ``name`` (also used in process, by override)."""
    return {
        "REVOCATION_STORE": STORES[name],
        "REDIS_VERDICT_CACHE": name == "redis-cached",
        # None: the django-redis cache on BENCH_REDIS_URL, as for the single-node stores.
        "REDIS": CLUSTER_REDIS if name == "redis-cluster" else None,
    }


AUTHTOKENS = {
    **PROJECT_AUTHTOKENS,
    # Every check at every level: the stores check token, device and user on every request.
    **store_settings(BENCH_STORE),
    # Long enough that no token expires during a run (simplejwt's gets the same below).
    "WEB_ACCESS_TOKEN_LIFETIME": timedelta(hours=2),
    # Every request comes from one address; failure limits would measure themselves.
    "FAILURE_LIMITS": None,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "authtokens.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": "j" * 32,
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=2),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=90),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}
REST_KNOX = {"TOKEN_TTL": timedelta(hours=10), "AUTO_REFRESH": False}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fixtures only
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"authtokens": {"handlers": ["console"], "level": "WARNING"}},
}

# The propagation benchmark (benchmarks/propagation.py) needs to know which worker answered;
# the other servers keep the one-middleware stack.
if os.environ.get("BENCH_WORKER_PID"):
    MIDDLEWARE = [*MIDDLEWARE, "benchmarks.propagation.worker_pid"]
