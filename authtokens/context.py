"""Who is acting and from which device, for revocations made deep inside ``save()``.

A password change reaches us as a ``pre_save`` of the user; these context variables tell the
receiver which staff member or user acted (for the audit trail) and which device, if any,
made the change (so that it can stay signed in).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

acting_user: ContextVar[Any] = ContextVar("authtokens_acting_user", default=None)
changing_device: ContextVar[str | None] = ContextVar("authtokens_changing_device", default=None)


@contextmanager
def acting_as(user: Any, *, device_id: str | None = None) -> Iterator[None]:
    """Attribute revocations made inside the block to ``user`` (and their ``device_id``)."""
    user_token, device_token = acting_user.set(user), changing_device.set(device_id)
    try:
        yield
    finally:
        acting_user.reset(user_token)
        changing_device.reset(device_token)


class ActingUserMiddleware:
    """Record the signed-in user of each request as the actor of revocations it causes.

    Add it after ``AuthenticationMiddleware`` so that, for example, a staff member resetting a
    password in the admin is recorded as who revoked that user's tokens.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # request.user stays lazy: a request that revokes nothing never loads it.
        with acting_as(getattr(request, "user", None)):
            return self.get_response(request)


def current_actor() -> Any:
    """Return the authenticated user acting now, or None for the system."""
    user = acting_user.get()
    return user if user is not None and user.is_authenticated else None
