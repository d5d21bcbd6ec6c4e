"""A project that used djangorestframework-simplejwt and is moving to authtokens.

Both authentication classes are listed, authtokens' first: it steps aside for simplejwt's
tokens, which simplejwt's class keeps accepting until they expire (README, "Migrating from
simplejwt"). Its own database, named after the suite's; failure counts in process memory.
"""

import os
from datetime import timedelta

import dj_database_url

SECRET_KEY = "a-project-migrating-from-simplejwt-" + "m" * 32
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework_simplejwt",
    "authtokens",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "tests.simplejwt_migration.urls"
_suite = dj_database_url.parse(
    os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
)
DATABASES = {"default": {**_suite, "NAME": f"{_suite['NAME']}_simplejwt"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: verifies its own tokens, steps aside for any other JWT.
        "authtokens.authentication.JWTAuthentication",
        # Until the last simplejwt token has expired.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "authtokens.errors.exception_handler",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
}
AUTHTOKENS = {
    "SIGNING_KEYS": [{"kid": "new-1", "algorithm": "HS256", "secret": "n" * 32}],
    "NATIVE_AUDIENCES": ["Legacy-App"],
    "REVOCATION_STORE": "authtokens.store.database.DatabaseStore",
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
