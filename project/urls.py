"""URLs of the demo project."""

from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from authtokens.account_admin import account_site
from authtokens.cookies import keeps_this_device
from authtokens.limits import limit_password_change

urlpatterns = [
    # People sign in on one page: the app's (the "Log in" link after a password reset too);
    # the admin's and the panel's login pages send them there as well (authtokens.sites).
    path(
        "accounts/login/",
        RedirectView.as_view(pattern_name="authtokens:sign-in", query_string=True),
    ),
    # Wrong old passwords count as failed sign-ins; this browser stays signed in, every other
    # device of the user is signed out.
    path(
        "accounts/password_change/",
        limit_password_change(keeps_this_device(PasswordChangeView.as_view())),
    ),
    # Password reset happens on the site's own pages (authtokens.urls.pages).
    path(
        "accounts/password_reset/", RedirectView.as_view(pattern_name="authtokens:password-reset")
    ),
    path("admin/", admin.site.urls),
    # The end users' panel: their own devices and sign-out history.
    path("account/", account_site.urls),
    # Django's own password change and reset views; any of them ends the user's tokens.
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("", include("authtokens.urls")),
]

# Styled pages with a way back; the API keeps its JSON (authtokens.pages.errors).
handler400 = "authtokens.pages.errors.bad_request"
handler403 = "authtokens.pages.errors.permission_denied"
handler404 = "authtokens.pages.errors.not_found"
handler500 = "authtokens.pages.errors.server_error"
