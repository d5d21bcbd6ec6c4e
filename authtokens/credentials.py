"""The credentials a device's tokens were issued under, and whether a user may hold tokens.

Django sends no signal for ``QuerySet.update()`` or raw SQL, so each device records, at sign-in
and whenever it is re-issued tokens under a new generation, a keyed digest of its user's
password hash and ``is_active`` flag. A digest that no longer matches the user's row reveals a
change that no ``save()`` reported: extend and introspection refuse the token at once, and
``authtokens_reconcile`` revokes every token of the user. Keyed with ``SECRET_KEY`` (as
``get_session_auth_hash`` is), so the table reveals nothing about the hashes; digests made
under a key of ``SECRET_KEY_FALLBACKS`` still match.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Reason

SALT = "authtokens.credentials.v1"


def is_active(user: Any) -> bool:
    """Whether ``user`` may hold tokens: Django's rule (``ModelBackend``), so a user model
    without ``is_active``, or with ``None`` there, counts as active."""
    flag = getattr(user, "is_active", None)
    return flag is None or bool(flag)


def digest(user: Any, *, secret: str | bytes | None = None) -> str:
    """Return the keyed digest of ``user``'s password hash and active flag."""
    state = f"{int(is_active(user))}:{user.password or ''}"
    return salted_hmac(SALT, state, secret=secret, algorithm="sha256").hexdigest()


def matches(stored: str, user: Any) -> bool:
    """Whether ``stored`` is ``user``'s digest under ``SECRET_KEY`` or one of its fallbacks."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(stored, digest(user, secret=key)) for key in secrets)


def change_reason(stored: str, user: Any) -> str | None:
    """Why every token issued under ``stored`` must end, or None if nothing changed.

    An empty ``stored`` (a device signed in before the record existed) proves nothing and
    passes, until the reconcile command records it.
    """
    if not is_active(user):
        return Reason.USER_DEACTIVATED
    if stored and not matches(stored, user):
        return Reason.PASSWORD_CHANGE
    return None
