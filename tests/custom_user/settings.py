"""A second, minimal project: authtokens dropped into someone else's Django project.

Nothing here comes from ``project/``: only what the README tells a new user to add.
"""

import os

SECRET_KEY = "a-second-project-" + "k" * 40
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "tests.custom_user.accounts",
    "authtokens",
]
AUTH_USER_MODEL = "accounts.EmailUser"
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "authtokens.middleware.TokenCookieMiddleware",
]
ROOT_URLCONF = "tests.custom_user.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "authtokens_second",
        "USER": "postgres",
        "HOST": os.environ.get("TEST_DATABASE_HOST", "127.0.0.1"),
    }
}
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("TEST_SECOND_REDIS_URL", "redis://127.0.0.1:6379/13"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["authtokens.authentication.JWTAuthentication"],
    "EXCEPTION_HANDLER": "authtokens.errors.exception_handler",
}
AUTHTOKENS = {
    "SIGNING_KEYS": [{"kid": "second-1", "algorithm": "HS512", "secret": "s" * 64}],
    "NATIVE_AUDIENCES": ["Desktop-App"],
    "REVOCATION_STORE": "authtokens.store.redis.RedisStore",
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
