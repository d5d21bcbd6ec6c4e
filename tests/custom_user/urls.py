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
    path("", include("authtokens.urls")),
]
