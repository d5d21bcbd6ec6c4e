"""The API alone, mountable under any prefix.

``path("api/", include("authtokens.urls.api"))`` serves ``/api/token/``, ``/api/devices/``,
``/api/me/``, ..., and the public keys at ``/api/.well-known/jwks.json``. URL names live in the
``authtokens_api`` namespace: ``reverse("authtokens_api:issue")``.
"""

from django.urls import path

from .. import account_api, views
from ..introspection import IntrospectView

app_name = "authtokens_api"

routes = [
    path("token/", views.TokenIssueView.as_view(), name="issue"),
    path("token/extend/", views.TokenExtendView.as_view(), name="extend"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="refresh"),
    path("token/logout/", views.LogoutView.as_view(), name="logout"),
    path("token/logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("token/revoke/", views.RevokeView.as_view(), name="revoke"),
    path("token/introspect/", IntrospectView.as_view(), name="introspect"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("devices/", account_api.DeviceListView.as_view(), name="device-list"),
    path("devices/<str:device_id>/", account_api.DeviceDetailView.as_view(), name="device-detail"),
    path("me/", account_api.MeView.as_view(), name="me"),
]
jwks = path(".well-known/jwks.json", views.JWKSView.as_view(), name="jwks")

urlpatterns = [*routes, jwks]
