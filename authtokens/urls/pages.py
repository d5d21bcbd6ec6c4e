"""The browser pages alone, mountable under any prefix.

``path("account/", include("authtokens.urls.pages"))`` serves ``/account/`` (who you are),
``/account/signin/``, ``/account/signout/``, ``/account/devices/`` and the password pages
under ``/account/password/``. URL names live in the ``authtokens`` namespace, which the pages
and their templates reverse: ``authtokens:sign-in``.
"""

from django.urls import path

from .. import pages

app_name = "authtokens"

urlpatterns = [
    path("", pages.home, name="home"),
    path("signin/", pages.sign_in, name="sign-in"),
    path("signout/", pages.sign_out, name="sign-out"),
    path("devices/", pages.devices, name="devices"),
    path("devices/<uuid:device_id>/rename/", pages.rename_device, name="device-rename"),
    path("devices/<uuid:device_id>/revoke/", pages.revoke_device, name="device-revoke"),
    path("devices/logout-others/", pages.logout_others, name="logout-others"),
    # The 0.1 path of the same action, kept so that pages and scripts posting to it still work.
    path("devices/revoke-others/", pages.logout_others),
    path("password/", pages.password_change, name="password-change"),
    path("password/reset/", pages.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/sent/", pages.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password/reset/<uidb64>/<token>/",
        pages.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password/reset/done/",
        pages.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
]
