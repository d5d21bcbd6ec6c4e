from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView


class Orders(APIView):
    """The project's own view: DEFAULT_AUTHENTICATION_CLASSES, both of them."""

    def get(self, request):
        scheme = "authtokens" if isinstance(request.auth, dict) else "simplejwt"
        return Response({"customer": str(request.user.pk), "scheme": scheme})


urlpatterns = [
    path("orders/", Orders.as_view()),
    # Clients still holding a simplejwt refresh token refresh it here until it expires.
    path("api/legacy/token/refresh/", TokenRefreshView.as_view()),
    path("", include("authtokens.urls")),
]
