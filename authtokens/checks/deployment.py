"""Checks of the project's own settings around the app: where failure counts live, and whether
a locked-out username can be refused before any other backend hashes its password."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register("authtokens")
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Failure counts live in the default cache: one per process is no limit with N workers."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Warning(
            "The default cache is process-local, so failure limits (sign-in, password "
            "change, refresh, introspection) are counted per worker process, not across them.",
            hint="Use a shared cache (django-redis) as the default cache.",
            id="authtokens.W030",
        )
    ]


LIMITS_BACKEND = "authtokens.limits.FailureLimitBackend"


@register("authtokens")
def check_limits_backend(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Only a backend listed first can refuse a locked-out username before others hash."""
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if backends[:1] == [LIMITS_BACKEND]:
        return []
    return [
        Warning(
            f"{LIMITS_BACKEND} is not first in AUTHENTICATION_BACKENDS: failed sign-ins "
            "through authenticate() outside authtokens (the admin's login, say) are counted "
            "but not refused while locked out.",
            hint=f"Put {LIMITS_BACKEND!r} first in AUTHENTICATION_BACKENDS.",
            id="authtokens.W031",
        )
    ]
