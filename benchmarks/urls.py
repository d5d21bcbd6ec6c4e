"""One trivial protected view per scheme; each returns {"ok": true} and reads nothing of
``request.user`` beyond what its authentication class and ``IsAuthenticated`` do."""

from django.urls import include, path
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import (
    JWTAuthentication as SimpleJWTAuthentication,
)
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.views import TokenRefreshView as SimpleJWTRefreshView

from authtokens.authentication import JWTAuthentication


class Ok(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


class Floor(Ok):
    authentication_classes = []
    permission_classes = [AllowAny]


class DRFToken(Ok):
    authentication_classes = [TokenAuthentication]


class Knox(Ok):
    authentication_classes = [KnoxTokenAuthentication]


class SimpleJWT(Ok):
    authentication_classes = [SimpleJWTAuthentication]


class SimpleJWTStateless(Ok):
    authentication_classes = [JWTStatelessUserAuthentication]


class AuthTokens(Ok):
    # The store (Redis or database) is AUTHTOKENS["REVOCATION_STORE"], set by BENCH_STORE.
    authentication_classes = [JWTAuthentication]


urlpatterns = [
    path("b/floor/", Floor.as_view()),
    path("b/drf-token/", DRFToken.as_view()),
    path("b/knox/", Knox.as_view()),
    path("b/simplejwt/", SimpleJWT.as_view()),
    path("b/simplejwt-stateless/", SimpleJWTStateless.as_view()),
    path("b/authtokens/", AuthTokens.as_view()),
    path("b/simplejwt/refresh/", SimpleJWTRefreshView.as_view()),
    path("", include("authtokens.urls")),
]
