"""URLs of the demo project."""

from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from authtokens.limits import limit_sign_in

urlpatterns = [
    # The login forms answer 429 with Retry-After while a username is locked out
    # (authtokens.limits); the backend refuses it even without this.
    path("admin/login/", limit_sign_in(admin.site.login)),
    path("accounts/login/", limit_sign_in(LoginView.as_view())),
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
