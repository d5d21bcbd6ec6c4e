CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],  # redis://127.0.0.1:6379/0
        # Bounded waits: a hung Redis costs one timeout, then the database answers. Never
        # IGNORE_EXCEPTIONS: it would turn an outage into "not revoked" (a check refuses it).
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}
AUTHTOKENS["REVOCATION_STORE"] = "authtokens.store.redis.RedisStore"
