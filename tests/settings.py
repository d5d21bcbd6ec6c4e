"""Test settings: the demo project on PostgreSQL and a real Redis (database 15, flushed per test).

TEST_DATABASE_URL and TEST_REDIS_URL override the defaults, which match .ci/run.
"""

import os
from unittest import mock

import dj_database_url

# The demo's settings as `make run` loads them (DEBUG on: its development SECRET_KEY), without
# leaving DEBUG in the environment of the servers and commands the tests start.
with mock.patch.dict(os.environ, {"DEBUG": "1"}):
    from project.settings import *  # noqa: F403

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    )
}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    },
}
AUTHTOKENS = {
    **AUTHTOKENS,  # noqa: F405
    "SIGNING_KEYS": [{"kid": "test-1", "algorithm": "HS256", "secret": "t" * 32}],
    "REVOCATION_STORE": "authtokens.store.redis.RedisStore",
    # As in production: Chromium accepts Secure and __Host- cookies from http://localhost.
    "COOKIE_SECURE": True,
    "INTROSPECTION_CLIENTS": {"resource-server": "s3cret-for-tests-and-long-enough-0123456789"},
    # Property tests fail far more often than people do; test_limits sets real limits.
    "FAILURE_LIMITS": {
        name: "10000/min"
        for name in (
            "sign_in_per_ip_and_username",
            "sign_in_per_username",
            "sign_in_per_ip",
            "refresh_per_ip",
            "introspection_per_client",
            "introspection_per_ip",
        )
    },
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
LOGGING = {"version": 1, "disable_existing_loggers": False}
ROOT_URLCONF = "tests.urls"
