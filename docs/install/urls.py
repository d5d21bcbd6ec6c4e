from django.urls import include, path

from authtokens.account_admin import account_site

urlpatterns += [
    path("api/", include("authtokens.urls.api")),  # /api/token/, /api/me/, /api/devices/...
    path("account/", include("authtokens.urls.pages")),  # /account/signin/, /account/devices/
    path("account/panel/", account_site.urls),  # the end users' own admin panel
]
# The API's error shape for paths under api/ that no view serves, and for unhandled errors.
handler404 = "authtokens.errors.not_found"
handler500 = "authtokens.errors.server_error"
