"""Client kinds: one policy object per kind of client, the one place its rules live.

A device is of one kind (``Device.kind``), fixed when it signs in; every rule that differs
between kinds is read from the kind's policy here, looked up by the device's kind and never
guessed from a token's ``aud``: the audiences it may ask for, its access-token lifetime, its
refresh token, whether its session slides (``token/extend/``) and where it ends, and the name
an unnamed device gets. README, "Add a client kind", says how to add one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils.translation import gettext, gettext_lazy

from .conf import app_settings

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from .models import Device


class ClientKind:
    """The rules of one kind of client. Subclass it, name it, override what differs.

    The defaults describe the plainest client: no refresh token, no sliding session, no
    session end; a kind names its audiences and its access-token lifetime itself.
    """

    name: str = ""  # the Device.kind value, and the API's ``client``
    description: str = ""  # the API schema's description of the ``client`` value
    audience_error: str | _StrPromise = gettext_lazy("Unknown audience.")
    extendable: bool = False  # may trade its access token for a fresh one (sliding session)

    def audiences(self) -> Collection[str]:
        """Every audience a device of this kind may ask for."""
        return ()

    def default_audience(self) -> str | None:
        """The audience a device that asks for none gets, or None: it must ask."""
        return None

    def accepts(self, audience: str | None) -> bool:
        """Whether a sign-in of this kind may ask for ``audience`` (None: asks for none)."""
        if audience is None:
            return self.default_audience() is not None
        return audience in self.audiences()

    def audience_for(self, audience: str | None) -> str:
        """The audience a new device of this kind gets, or ``ValueError``."""
        if audience is None and self.default_audience() is not None:
            return self.default_audience()  # type: ignore[return-value]
        if audience is not None and audience in self.audiences():
            return audience
        raise ValueError(f"Unknown client {self.name!r} or audience {audience!r}.")

    def access_lifetime(self, device: Device) -> timedelta | None:
        """How long the device's access tokens live; None: they never expire. Every kind
        says: there is no safe default."""
        raise NotImplementedError

    def refresh_lifetime(self, device: Device) -> timedelta | None:
        """How long the device's refresh tokens live, if it gets any; None: forever."""
        return app_settings.REFRESH_TOKEN_LIFETIME

    def non_expiring_audiences(self) -> Collection[str]:
        """The audiences whose access tokens never expire: the idle limit
        (``NON_EXPIRING_IDLE_LIMIT``, ``usage.py``) finds their devices by these."""
        return ()

    def uses_refresh(self, device: Device) -> bool:
        """Whether the device gets a refresh token with each access token."""
        return False

    def session_end(self, device: Device) -> datetime | None:
        """When the device's session ends however active it is; None: no such end."""
        return None

    def access_expiry(self, device: Device, now: datetime) -> datetime | None:
        """The ``exp`` of an access token issued at ``now``: its lifetime, capped by the
        session's end. None: it never expires."""
        lifetime, end = self.access_lifetime(device), self.session_end(device)
        expiry = None if lifetime is None else now + lifetime
        if end is None:
            return expiry
        return end if expiry is None else min(expiry, end)

    def default_name(self, audience: str) -> str:
        """The name of a device whose User-Agent says nothing useful."""
        return audience


class WebKind(ClientKind):
    """A browser: a short access token, extended (``token/extend/``) until the session's
    maximum; no refresh token, which a browser could not keep from JavaScript."""

    name = "web"
    description = "A browser: a short access token, extended by token/extend/"
    audience_error = gettext_lazy("Web clients take no audience.")
    extendable = True

    def audiences(self) -> Collection[str]:
        return (app_settings.WEB_AUDIENCE,)

    def default_audience(self) -> str:
        return app_settings.WEB_AUDIENCE

    def audience_for(self, audience: str | None) -> str:
        # A browser never chooses: every browser token is for the one web audience.
        return app_settings.WEB_AUDIENCE

    def access_lifetime(self, device: Device) -> timedelta:
        return app_settings.WEB_ACCESS_TOKEN_LIFETIME

    def session_end(self, device: Device) -> datetime:
        return device.created_at + app_settings.WEB_SESSION_MAX_LIFETIME

    def default_name(self, audience: str) -> str:
        return gettext("Web browser")


class NativeKind(ClientKind):
    """An app with an audience from ``NATIVE_AUDIENCES``: a short access token and a refresh
    token, or, for an audience in ``NON_EXPIRING_AUDIENCES``, an access token that never
    expires (and no refresh token)."""

    name = "native"
    description = "An app with an audience: a refresh token, or no expiry"
    audience_error = gettext_lazy(
        "Native clients must name one of the configured native audiences."
    )

    def audiences(self) -> Collection[str]:
        return app_settings.NATIVE_AUDIENCES

    def non_expiring_audiences(self) -> Collection[str]:
        return app_settings.NON_EXPIRING_AUDIENCES

    def access_lifetime(self, device: Device) -> timedelta | None:
        if device.audience in self.non_expiring_audiences():
            return None
        return app_settings.NATIVE_ACCESS_TOKEN_LIFETIME

    def uses_refresh(self, device: Device) -> bool:
        # A token that never expires needs nothing to renew it.
        return self.access_lifetime(device) is not None


KINDS: dict[str, ClientKind] = {}


def register(kind: ClientKind) -> None:
    """Make ``kind`` known by its name (``Device.kind``); a name is registered once."""
    if not kind.name or kind.name in KINDS:
        raise ValueError(f"client kind {kind.name!r} is unnamed or registered already")
    KINDS[kind.name] = kind


def unregister(name: str) -> None:
    KINDS.pop(name, None)


def get(name: str) -> ClientKind:
    """The policy of the kind called ``name``, or ``ValueError``."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"Unknown client {name!r}.") from None


def of(device: Device) -> ClientKind:
    """The policy of ``device``: always its own kind, never read from a token's ``aud``."""
    return get(device.kind)


register(WebKind())
register(NativeKind())
