"""Settings of the demo project, from the environment; safe by default.

Environment: SECRET_KEY, DEBUG, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, AUTHTOKENS_SIGNING_KEY(S).
DEBUG is off unless set (`make run` sets DEBUG=1); with it off, SECRET_KEY must be set, and
authtokens refuses to start if its key would derive from a development SECRET_KEY.
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


# Off unless asked for: a deployment that forgets DEBUG must not run with development keys.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set SECRET_KEY when DEBUG is off (for development, `make run` sets DEBUG=1)."
        )
    # Public, so development only: authtokens refuses to derive a key from it without DEBUG.
    SECRET_KEY = "django-insecure-development-only-" + "x" * 32  # noqa: S105
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    # Django's admin, with the token cookie as its session (authtokens.sites.StaffAdminSite).
    "authtokens.admin_config.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, offline
    "authtokens",
    "project",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of Accept-Language (README, Languages): authtokens' messages and DRF's.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # request.user from the token cookie: one browser session for the pages, the staff admin
    # and the end users' panel (in place of Django's AuthenticationMiddleware).
    "authtokens.middleware.TokenUserMiddleware",
    "authtokens.middleware.ActingUserMiddleware",
    "authtokens.middleware.TokenCookieMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # the pages come from the app; a site would put its authtokens/base.html here
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: every transaction takes the write lock when it begins and waits up
    # to `timeout` seconds for it (a deferred one that must upgrade fails at once: "database is
    # locked", a 503); WAL lets readers run beside the writer.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # Bounded waits: a hung Redis costs one timeout, then the database answers.
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# First: refuses a username locked out by failed attempts before any password is hashed.
# Pages that need a signed-in user (login_required, the admins) send people to the app's page.
LOGIN_URL = "authtokens:sign-in"

AUTHENTICATION_BACKENDS = [
    "authtokens.limits.FailureLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The languages authtokens ships its messages in; a browser asking for another gets English.
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Security headers (README, Deployment): no inline scripts or styles, no framing, no referrer
# beyond our origin. The admin, which is not ours, keeps Django's own headers.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind an HTTPS proxy (README, Deployment): trust its X-Forwarded-Proto and send HSTS.
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SAMESITE = "Lax"
# A refused form gets the site's page with a way back, not Django's bare one.
CSRF_FAILURE_VIEW = "authtokens.pages.errors.csrf_failure"

# Password-reset mail: printed to the console unless EMAIL_BACKEND names a real backend
# (then Django's EMAIL_HOST and friends apply); never "sent" into the void.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "authtokens demo <noreply@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["authtokens.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "authtokens.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}


def signing_keys_from_env() -> list[dict[str, str]] | None:
    """AUTHTOKENS_SIGNING_KEYS (a JSON list, as authtokens_rotate_key prints), or one HS256
    AUTHTOKENS_SIGNING_KEY; None derives a key from SECRET_KEY (development)."""
    if keys := os.environ.get("AUTHTOKENS_SIGNING_KEYS"):
        return json.loads(keys)
    if key := os.environ.get("AUTHTOKENS_SIGNING_KEY"):
        return [{"kid": "main", "algorithm": "HS256", "secret": key}]
    return None


SPECTACULAR_SETTINGS = {
    "TITLE": "authtokens API",
    "DESCRIPTION": "Revocable JWTs: sign in, extend, refresh, revoke, devices, introspection.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

AUTHTOKENS: dict[str, Any] = {
    # {"client_id": "secret"} for resource servers that introspect tokens (RFC 7662).
    "INTROSPECTION_CLIENTS": json.loads(os.environ.get("AUTHTOKENS_INTROSPECTION_CLIENTS", "{}")),
    "SIGNING_KEYS": signing_keys_from_env(),
    "NATIVE_AUDIENCES": ["iPhone-App", "Android-App"],
    "NON_EXPIRING_AUDIENCES": ["iPhone-App"],
    # Secure cookies need HTTPS; plain-HTTP development on 127.0.0.1 turns them off.
    "COOKIE_SECURE": env_bool("COOKIE_SECURE", not DEBUG),
    "WEB_ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "WEB_SESSION_MAX_LIFETIME": timedelta(days=1),
    "REVOCATION_STORE": (
        "authtokens.store.redis.RedisStore"
        if REDIS_URL
        else "authtokens.store.database.DatabaseStore"
    ),
    # Proxies in front that append to X-Forwarded-For (0: the client is REMOTE_ADDR).
    "TRUSTED_PROXY_COUNT": int(os.environ.get("TRUSTED_PROXY_COUNT", "0")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "authtokens": {"handlers": ["console"], "level": "INFO"},
        # Unhandled errors (500s) with their tracebacks: Django's own console logging stops
        # when DEBUG is off, and it mails them only to ADMINS, which the demo has none of.
        # Not propagated: with DEBUG on, Django's console would print each one twice.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
