"""URLs of the demo project."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's own password change and reset views; any of them ends the user's tokens.
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("authtokens.urls")),
]
