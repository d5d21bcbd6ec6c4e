"""URLs of the demo project."""

from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from authtokens.limits import limit_password_change, limit_sign_in

urlpatterns = [
    # The login forms answer 429 with Retry-After while a username is locked out
    # (authtokens.limits); the backend refuses it even without this. Wrong old passwords on
    # Django's password-change forms count as failed sign-ins too.
    path("admin/login/", limit_sign_in(admin.site.login)),
    path(
        "admin/password_change/",
        limit_password_change(admin.site.admin_view(admin.site.password_change)),
    ),
    # People sign in on one page: the app's (the "Log in" link after a password reset too).
    path(
        "accounts/login/",
        RedirectView.as_view(pattern_name="authtokens:sign-in", query_string=True),
    ),
    path("accounts/password_change/", limit_password_change(PasswordChangeView.as_view())),
    path("admin/", admin.site.urls),
    # Django's own password change and reset views; any of them ends the user's tokens.
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("", include("authtokens.urls")),
]

handler404 = "authtokens.errors.not_found"
handler500 = "authtokens.errors.server_error"
