"""The staff panel: devices, refresh tokens and the audit trail, read-only, with revocations.

Nothing here writes a revocation itself: the actions call ``services``. Nothing can be edited,
so nothing can be un-revoked, and no token material (digests) is ever shown. Devices and their
refresh tokens are never deleted by hand here, but go with their user when staff delete one.
"""

from .base import RevokeButtonMixin, confirm_then
from .devices import (
    DeviceAdmin,
    DeviceInline,
    DeviceStatusFilter,
    device_client,
    device_ip,
    device_status,
)
from .history import RefreshTokenAdmin, RevocationEventAdmin
from .users import SignOutEverywhereMixin

__all__ = [
    "DeviceAdmin",
    "DeviceInline",
    "DeviceStatusFilter",
    "RefreshTokenAdmin",
    "RevocationEventAdmin",
    "RevokeButtonMixin",
    "SignOutEverywhereMixin",
    "confirm_then",
    "device_client",
    "device_ip",
    "device_status",
]
