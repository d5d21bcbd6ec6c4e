"""URLs of the API; include at the site root: ``path("", include("authtokens.urls"))``."""

from django.urls import path

from . import views

app_name = "authtokens"

urlpatterns = [
    path("api/token/", views.TokenIssueView.as_view(), name="issue"),
    path("api/token/extend/", views.TokenExtendView.as_view(), name="extend"),
    path("api/token/refresh/", views.TokenRefreshView.as_view(), name="refresh"),
    path("api/token/logout/", views.LogoutView.as_view(), name="logout"),
    path("api/token/logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("api/token/revoke/", views.RevokeView.as_view(), name="revoke"),
    path("api/password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("api/devices/", views.DeviceListView.as_view(), name="device-list"),
    path("api/devices/<uuid:device_id>/", views.DeviceDetailView.as_view(), name="device-detail"),
    path("api/me/", views.MeView.as_view(), name="me"),
    path(".well-known/jwks.json", views.JWKSView.as_view(), name="jwks"),
]
