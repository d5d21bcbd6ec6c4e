"""URLs of the API and the browser pages; include at the site root:
``path("", include("authtokens.urls"))``.
"""

from django.urls import path

from . import pages, views
from .introspection import IntrospectView

app_name = "authtokens"

page_urlpatterns = [
    path("", pages.home, name="home"),
    path("signin/", pages.sign_in, name="sign-in"),
    path("signout/", pages.sign_out, name="sign-out"),
    path("devices/", pages.devices, name="devices"),
    path("devices/<uuid:device_id>/revoke/", pages.revoke_device, name="device-revoke"),
    path("devices/revoke-others/", pages.revoke_other_devices, name="devices-revoke-others"),
]

api_urlpatterns = [
    path("api/token/", views.TokenIssueView.as_view(), name="issue"),
    path("api/token/extend/", views.TokenExtendView.as_view(), name="extend"),
    path("api/token/refresh/", views.TokenRefreshView.as_view(), name="refresh"),
    path("api/token/logout/", views.LogoutView.as_view(), name="logout"),
    path("api/token/logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("api/token/revoke/", views.RevokeView.as_view(), name="revoke"),
    path("api/token/introspect/", IntrospectView.as_view(), name="introspect"),
    path("api/password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("api/devices/", views.DeviceListView.as_view(), name="device-list"),
    path("api/devices/<str:device_id>/", views.DeviceDetailView.as_view(), name="device-detail"),
    path("api/me/", views.MeView.as_view(), name="me"),
    path(".well-known/jwks.json", views.JWKSView.as_view(), name="jwks"),
]

urlpatterns = api_urlpatterns + page_urlpatterns
