"""authtokens mounted away from the site root, as a project may: the API under ``auth/``, the
pages under ``account/``, beside views of the project's own that fail."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class BrokenApiView(APIView):
    """A view of the project's, under the API prefix, with a bug in it."""

    schema = None
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("a bug")


def broken_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [
    path("auth/broken/", BrokenApiView.as_view()),
    path("broken/", broken_page),
    path("auth/", include("authtokens.urls.api")),
    path("account/", include("authtokens.urls.pages")),
]

handler404 = "authtokens.errors.not_found"
handler500 = "authtokens.errors.server_error"
