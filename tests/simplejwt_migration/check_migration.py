"""Both token kinds during a migration (run by tests/test_simplejwt_migration.py)."""

from datetime import timedelta

import jwt
import pytest
import time_machine
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from authtokens import tokens

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a password of the old days"


@pytest.fixture
def user():
    return get_user_model().objects.create_user("frank", password=PASSWORD)


def orders(token):
    return APIClient().get("/orders/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_simplejwt_access_token_is_accepted_until_it_expires(user):
    old = str(AccessToken.for_user(user))
    accepted = orders(old)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json() == {"customer": str(user.pk), "scheme": "simplejwt"}
    with time_machine.travel(tokens.now() + timedelta(minutes=6)):
        expired = orders(old)
    assert expired.status_code == 401
    assert expired.json()["code"] == "token_not_valid"  # simplejwt's verdict, not ours


def test_a_simplejwt_refresh_token_still_refreshes_at_its_own_url(user):
    refresh = str(RefreshToken.for_user(user))
    answer = APIClient().post("/api/legacy/token/refresh/", {"refresh": refresh}, format="json")
    assert answer.status_code == 200, answer.content
    assert orders(answer.json()["access"]).json()["scheme"] == "simplejwt"


def test_an_authtokens_token_is_accepted_beside_them(user):
    body = (
        APIClient()
        .post("/api/token/", {"username": "frank", "password": PASSWORD}, format="json")
        .json()
    )
    accepted = orders(body["access"])
    assert accepted.status_code == 200, accepted.content
    assert accepted.json() == {"customer": str(user.pk), "scheme": "authtokens"}
    assert (
        APIClient()
        .post("/api/token/logout/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        .status_code
        == 204
    )
    refused = orders(body["access"])
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"


def test_a_token_claiming_our_kid_is_ours_to_refuse(user):
    """Signed with simplejwt's own key, so simplejwt's class would accept it: naming our kid
    makes it ours, and ours refuses it."""
    payload = dict(AccessToken.for_user(user).payload)
    for key in ("x" * 32, "a-project-migrating-from-simplejwt-" + "m" * 32):
        forged = jwt.encode(payload, key, algorithm="HS256", headers={"kid": "new-1"})
        refused = orders(forged)
        assert refused.status_code == 401, refused.content
        assert refused.json()["code"] in {"wrong_token_type", "bad_signature"}
        assert 'error="invalid_token"' in refused["WWW-Authenticate"]


def test_a_token_claiming_our_issuer_is_ours_to_refuse(user):
    payload = {**AccessToken.for_user(user).payload, "iss": "authtokens"}
    forged = jwt.encode(payload, "a-project-migrating-from-simplejwt-" + "m" * 32)
    refused = orders(forged)
    assert refused.status_code == 401 and refused.json()["code"] == "unknown_key"


def test_a_token_nobody_issued_is_refused_by_simplejwt(user):
    payload = dict(AccessToken.for_user(user).payload)
    refused = orders(jwt.encode(payload, "y" * 32, algorithm="HS256"))
    assert refused.status_code == 401 and refused.json()["code"] == "token_not_valid"
