from django.urls import include, path

from authtokens.account_admin import account_site

urlpatterns += [
    path("api/", include("authtokens.urls.api")),  # /api/token/, /api/me/, /api/devices/...
    path("account/", include("authtokens.urls.pages")),  # /account/signin/, /account/devices/
    path("account/panel/", account_site.urls),  # the end users' own admin panel
]
# Error pages in the site pages' style with a way back, and the API's error shape under api/.
handler400 = "authtokens.pages.errors.bad_request"
handler403 = "authtokens.pages.errors.permission_denied"
handler404 = "authtokens.pages.errors.not_found"
handler500 = "authtokens.pages.errors.server_error"
