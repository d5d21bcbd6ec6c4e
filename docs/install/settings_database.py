CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "authtokens_cache",  # manage.py createcachetable
    }
}
