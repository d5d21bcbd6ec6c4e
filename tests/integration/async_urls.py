"""Plain Django ``async def`` views using authtokens, as a project would under ASGI."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.exceptions import APIException

from authtokens import services
from authtokens.authentication import aauthenticate_token
from authtokens.exceptions import AuthTokensError
from authtokens.pages import token_login_required


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else ""


async def me(request: HttpRequest) -> JsonResponse:
    """The DRF-flavoured helper: a lazy user, loaded on demand."""
    try:
        user, claims = await aauthenticate_token(bearer_token(request))
        loaded = await user.aload()
    except APIException as error:
        return JsonResponse({"code": error.get_codes()}, status=error.status_code)
    return JsonResponse(
        {"id": str(user.pk), "username": loaded.get_username(), "device": claims["did"]}
    )


async def claims(request: HttpRequest) -> JsonResponse:
    """The service-level helper: verified claims, or the domain error."""
    try:
        verified = await services.aauthenticate(bearer_token(request))
    except AuthTokensError as error:
        return JsonResponse({"code": error.code}, status=401)
    return JsonResponse({"sub": verified["sub"], "device": verified["did"]})


@token_login_required
async def page(request: HttpRequest) -> JsonResponse:
    """A browser page: the cookie, or a redirect to sign in."""
    return JsonResponse(
        {
            "username": request.token_user.get_username(),  # type: ignore[attr-defined]
            "device": request.token_claims["did"],  # type: ignore[attr-defined]
        }
    )


urlpatterns = [
    path("async/me/", me),
    path("async/claims/", claims),
    path("async/page/", page),
    path("", include("tests.urls")),
]

handler404 = "project.errors.not_found"
handler500 = "project.errors.server_error"
