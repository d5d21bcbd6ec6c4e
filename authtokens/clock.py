"""The one clock of the app: every "now" authtokens reads comes from here.

A seam as Django's ``PasswordResetTokenGenerator._now``: tests move time with ``time-machine``
(which moves this too) or patch ``authtokens.clock.now``, and every lifetime, expiry, window
and record then agrees on what time it is.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Return the current time, aware (UTC when ``USE_TZ``)."""
    return timezone.now()


def timestamp() -> float:
    """Return the current time in seconds since the epoch, as ``time.time()`` would."""
    return now().timestamp()
