from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class Orders(APIView):
    """Someone else's view, protected by authtokens through DEFAULT_AUTHENTICATION_CLASSES."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"customer": str(request.user.pk), "email": request.user.email})


urlpatterns = [
    path("orders/", Orders.as_view()),
    # As the README mounts them (docs/install/urls.py).
    path("api/", include("authtokens.urls.api")),
    path("account/", include("authtokens.urls.pages")),
]
handler404 = "authtokens.errors.not_found"
handler500 = "authtokens.errors.server_error"
