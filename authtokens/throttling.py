"""Rate limits on sign-in and refresh: DRF's scoped throttle on the shared cache."""

from __future__ import annotations

from rest_framework.throttling import ScopedRateThrottle

from .conf import app_settings


class AuthTokensThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle`` with rates read live from ``AUTHTOKENS["THROTTLE_RATES"]``.

    DRF binds its rates at import time; reading them per request lets ``override_settings``
    and per-deployment settings work. Counts live in the default cache, which must be shared
    between workers (Redis) for the limit to hold across them.
    """

    def get_rate(self) -> str | None:
        return app_settings.THROTTLE_RATES.get(self.scope)
