from django.contrib import admin
from django.urls import include, path

from authtokens.limits import limit_sign_in

urlpatterns += [
    path("api/", include("authtokens.urls.api")),  # /api/token/, /api/me/, /api/devices/...
    path("account/", include("authtokens.urls.pages")),  # /account/signin/, /account/devices/
]
# A 429 page, not a bare refusal, at the admin's login while a username is locked out.
urlpatterns.insert(0, path("admin/login/", limit_sign_in(admin.site.login)))
# The API's error shape for paths under api/ that no view serves, and for unhandled errors.
handler404 = "authtokens.errors.not_found"
handler500 = "authtokens.errors.server_error"
