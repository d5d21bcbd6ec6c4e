"""authtokens mounted away from the site root, as a project may: the API under ``auth/``, the
pages under ``account/``."""

from django.urls import include, path

urlpatterns = [
    path("auth/", include("authtokens.urls.api")),
    path("account/", include("authtokens.urls.pages")),
]
