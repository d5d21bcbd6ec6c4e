"""Settings of the gunicorn that integration tests start: the test database, their Redis."""

import json
import os

from tests.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
DATABASES = {
    "default": {
        **DATABASES["default"],  # noqa: F405
        "NAME": os.environ["AT_DB_NAME"],
        "PORT": os.environ["AT_DB_PORT"],
        "CONN_MAX_AGE": 0,
    }
}
CACHES = {
    "default": {
        **CACHES["default"],  # noqa: F405
        "LOCATION": os.environ["AT_REDIS_URL"],
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
    }
}
AUTHTOKENS = {
    **AUTHTOKENS,  # noqa: F405
    "REDIS_RETRY_INTERVAL": timedelta(seconds=1),  # noqa: F405
    "REDIS_AUDIT_INTERVAL": timedelta(seconds=1),  # noqa: F405
    # A test may shorten web tokens to reach their renewal point in seconds.
    "WEB_ACCESS_TOKEN_LIFETIME": timedelta(  # noqa: F405
        seconds=int(os.environ.get("AT_WEB_ACCESS_SECONDS", "900"))
    ),
}
MIDDLEWARE = [*MIDDLEWARE, "tests.integration.worker_pid.worker_pid"]  # noqa: F405
if os.environ.get("AT_VERDICT_CACHE"):  # tests/integration/test_propagation.py
    AUTHTOKENS["REDIS_VERDICT_CACHE"] = True
# tests/integration/test_topology_workers.py: the store's own connection to a Redis Cluster or
# to Sentinel, as JSON lists of [host, port].
_OPTIONS = {"socket_timeout": 0.3, "socket_connect_timeout": 0.3}
if os.environ.get("AT_REDIS_CLUSTER"):
    AUTHTOKENS["REDIS"] = {
        "CLUSTER": json.loads(os.environ["AT_REDIS_CLUSTER"]),
        "OPTIONS": _OPTIONS,
    }
if os.environ.get("AT_REDIS_SENTINELS"):
    AUTHTOKENS["REDIS"] = {
        "SENTINELS": json.loads(os.environ["AT_REDIS_SENTINELS"]),
        "SERVICE_NAME": os.environ["AT_REDIS_SERVICE"],
        "OPTIONS": _OPTIONS,
    }
