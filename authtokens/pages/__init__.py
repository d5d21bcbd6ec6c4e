"""Server-rendered pages for browsers: sign in and out, home, "Your devices", password pages.

``token_login_required`` protects a site's own views the same way (README, "Your own pages").
"""

from .account import (
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
    password_change,
)
from .devices import devices, home, logout_others, rename_device, revoke_device
from .session import MESSAGES, token_login_required
from .signin import SignInForm, sign_in, sign_out

__all__ = [
    "MESSAGES",
    "PasswordResetCompleteView",
    "PasswordResetConfirmView",
    "PasswordResetDoneView",
    "PasswordResetView",
    "SignInForm",
    "devices",
    "home",
    "password_change",
    "rename_device",
    "revoke_device",
    "logout_others",
    "sign_in",
    "sign_out",
    "token_login_required",
]
