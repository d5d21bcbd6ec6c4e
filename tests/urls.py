"""The project's URLs plus a trivial protected view: the hot path with nothing else in it."""

from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from authtokens.authentication import JWTAuthentication


class PingView(APIView):
    schema = None  # a test fixture, not part of the API
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"user_id": str(request.user.pk)})


urlpatterns = [
    path("ping/", PingView.as_view(), name="ping"),
    path("", include("project.urls")),
]

handler400 = "authtokens.pages.errors.bad_request"
handler403 = "authtokens.pages.errors.permission_denied"
handler404 = "authtokens.pages.errors.not_found"
handler500 = "authtokens.pages.errors.server_error"
