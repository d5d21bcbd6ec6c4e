"""Sign-in: the views' check, the authentication backend and the signal receiver.

They share one protocol on the request, which is why they live together: ``sign_in_wait``
leaves its answer there (``CHECKED``) so that ``FailureLimitBackend`` does not read the
cache again within the same ``authenticate()``; the backend marks a refusal (``LOCKED``)
so that ``count_failed_sign_in`` does not count the refusal as one more failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.core.exceptions import PermissionDenied

from .client import sign_in_counters
from .counts import record_failure, retry_after

# Attributes on the request: the sign-in check already made, and "refused while locked".
CHECKED = "_authtokens_sign_in_checked"
LOCKED = "_authtokens_sign_in_locked"


def sign_in_wait(request: Any, username: str) -> int | None:
    """Seconds until ``username`` may try a password again from this request, or None.

    The answer is kept on the request, so that ``FailureLimitBackend`` does not ask again
    within the same ``authenticate()``.
    """
    wait = retry_after(sign_in_counters(request, username))
    setattr(request, CHECKED, (username, wait))
    return wait


def _username_in(credentials: Mapping[str, Any]) -> Any:
    username = credentials.get("username")
    if username is None:
        username = credentials.get(get_user_model().USERNAME_FIELD)
    return username


class FailureLimitBackend(BaseBackend):
    """Refuses every ``authenticate()`` for a username that is locked out from this address.

    List it first in ``AUTHENTICATION_BACKENDS``: Django stops at its ``PermissionDenied``
    and hashes no password. It never lets anyone in; the next backend does that. Settings
    name it ``authtokens.limits.FailureLimitBackend``, which the package re-exports.
    """

    def authenticate(self, request: Any, **credentials: Any) -> None:
        username = _username_in(credentials)
        if not isinstance(username, str):
            return None
        checked = getattr(request, CHECKED, None) if request is not None else None
        if checked is not None and checked[0] == username:
            wait = checked[1]
        else:
            wait = retry_after(sign_in_counters(request, username))
        if wait is not None:
            if request is not None:
                setattr(request, LOCKED, True)  # the refusal is not one more failure
            raise PermissionDenied(f"Too many failed sign-in attempts; retry in {wait} s.")
        return None

    def get_user(self, user_id: Any) -> Any:
        # As ModelBackend: a session that names this backend (the test client's force_login
        # names the first one) still finds its user.
        return ModelBackend().get_user(user_id)


def count_failed_sign_in(
    sender: Any, credentials: Mapping[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """``user_login_failed`` receiver: one failure on the sign-in counters, never two."""
    if request is not None and getattr(request, LOCKED, False):
        return  # refused while locked: every counter that matters is already full
    username = _username_in(credentials)
    if not isinstance(username, str):
        return
    record_failure(sign_in_counters(request, username))
    if request is not None and hasattr(request, CHECKED):
        delattr(request, CHECKED)  # a later authenticate() in this request checks afresh
