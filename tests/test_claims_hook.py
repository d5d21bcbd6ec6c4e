"""Custom claims: ``CLAIMS_HOOK(user, device)`` adds claims to every access token issued,
and may not set or shadow a reserved one (README, "Custom claims")."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from authtokens import services, tokens
from authtokens.checks import check_settings
from authtokens.models import Device
from tests.conftest import bearer
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

calls: list[tuple[Any, Any]] = []
answer: list[Any] = [{}]  # what the hook returns: answer[0]


def hook(user: Any, device: Any) -> Any:
    calls.append((user, device))
    return answer[0]


@pytest.fixture
def claims_hook(settings: Any) -> list[Any]:
    calls.clear()
    answer[:] = [{}]
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "CLAIMS_HOOK": "tests.test_claims_hook.hook"}
    return answer


def payload(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_the_hook_adds_claims_at_sign_in_extend_and_refresh(api, user, sign_in, claims_hook):
    claims_hook[0] = {"roles": ["editor"], "tenant": "acme"}
    web = sign_in(user)
    assert payload(web["access"])["roles"] == ["editor"]
    (hook_user, hook_device), *_ = calls
    assert hook_user.pk == user.pk and str(hook_device.pk) == web["device"]["id"]
    # Verified claims, as DRF views see them in request.auth.
    assert services.authenticate(web["access"])["tenant"] == "acme"

    claims_hook[0] = {
        "roles": ["editor", "admin"],
        "tenant": "acme",
    }  # the next token says what the hook says now
    extended = api.post("/api/token/extend/", **bearer(web["access"])).json()
    assert payload(extended["access"])["roles"] == ["editor", "admin"]

    native = sign_in(user, client="native", audience="Android-App")
    claims_hook[0] = {"tenant": "globex"}
    refreshed = api.post("/api/token/refresh/", {"refresh": native["refresh"]}).json()
    assert payload(refreshed["access"])["tenant"] == "globex"
    assert "tenant" not in payload(refreshed["refresh"])  # refresh tokens carry none
    assert api.get("/api/me/", **bearer(refreshed["access"])).status_code == 200


@pytest.mark.parametrize("name", sorted(tokens.RESERVED_CLAIMS))
def test_every_reserved_claim_is_refused(name):
    with pytest.raises(ValueError, match=f"may not set the reserved claims {name}"):
        tokens.custom_claims({name: "x", "fine": 1}, source="CLAIMS_HOOK")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"sub": "1", "aud": "admin"}, "reserved claims aud, sub"),
        ({"did": "another device"}, "reserved claims did"),
        ({"kid": "other"}, "reserved claims kid"),
        ({"blob": "x" * 5000}, "longer than MAX_TOKEN_LENGTH"),
        (["roles"], "must return a dict"),
        ({1: "one"}, "not a string"),
        ({"when": object()}, "not JSON"),
        ({"ratio": float("nan")}, "not JSON"),
    ],
)
def test_a_refused_claim_fails_the_sign_in_and_writes_nothing(
    api, user, claims_hook, extra, message
):
    claims_hook[0] = extra
    with pytest.raises(ValueError, match=message):
        api.post("/api/token/", {"username": user.username, "password": PASSWORD})
    assert not Device.objects.exists()  # the sign-in rolled back


def test_no_hook_no_extra_claims(user, sign_in):
    assert set(payload(sign_in(user)["access"])) == {
        "iss",
        "sub",
        "aud",
        "iat",
        "exp",
        "jti",
        "did",
        "gen",
    }


@pytest.mark.parametrize(
    "path", ["tests.test_claims_hook.missing", "no-dots", "tests.test_claims_hook.answer"]
)
def test_a_hook_that_is_no_callable_is_a_check_error(settings, path):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "CLAIMS_HOOK": path}
    assert "authtokens.E014" in {error.id for error in check_settings()}


def test_a_callable_hook_passes_the_check(claims_hook):
    assert "authtokens.E014" not in {error.id for error in check_settings()}
