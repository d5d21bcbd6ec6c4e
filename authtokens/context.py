"""Who is acting and from which device, for revocations made deep inside ``save()``.

A password change reaches us as a ``pre_save`` of the user; these context variables tell the
receiver which staff member or user acted (for the audit trail) and which device, if any,
made the change (so that it can stay signed in).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

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


class RequestUser:
    """A request's user, read only when a revocation asks who acted.

    The context variable holds this, never ``request.user`` itself: that is a lazy object,
    and asgiref (3.13) inspects every context variable's value when it hands a context
    between threads, which would load the user, a query, inside the event loop."""

    __slots__ = ("request",)

    def __init__(self, request: Any) -> None:
        self.request = request

    def resolve(self) -> Any:
        return getattr(self.request, "user", None)


def current_actor() -> Any:
    """Return the authenticated user acting now, or None for the system."""
    user = acting_user.get()
    if isinstance(user, RequestUser):
        user = user.resolve()
    return user if user is not None and user.is_authenticated else None


def __getattr__(name: str) -> Any:
    """``authtokens.context.ActingUserMiddleware``, the 0.1 path in settings, now lives in
    ``authtokens.middleware`` with the other middleware (imported late: no cycle)."""
    if name == "ActingUserMiddleware":
        from .middleware import ActingUserMiddleware

        return ActingUserMiddleware
    raise AttributeError(name)
