from django.contrib import admin
from django.urls import include, path

from authtokens.limits import limit_password_change, limit_sign_in

urlpatterns += [
    path("api/", include("authtokens.urls.api")),  # /api/token/, /api/me/, /api/devices/...
    path("account/", include("authtokens.urls.pages")),  # /account/signin/, /account/devices/
]
# A 429 page, not a bare refusal, at the admin's login while a username is locked out; and a
# wrong old password on the admin's own password form counted as a failed sign-in.
password_change = limit_password_change(admin.site.admin_view(admin.site.password_change))
urlpatterns[:0] = [
    path("admin/login/", limit_sign_in(admin.site.login)),
    path("admin/password_change/", password_change),
]
# The API's error shape for paths under api/ that no view serves, and for unhandled errors.
handler404 = "authtokens.errors.not_found"
handler500 = "authtokens.errors.server_error"
