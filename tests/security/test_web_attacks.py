"""Web attacks: CSRF on every cookie-authenticated write, user enumeration, device ids."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
COOKIE = "__Host-authtokens"

UNSAFE_COOKIE_ENDPOINTS = [
    ("post", "/api/token/extend/"),
    ("post", "/api/token/logout/"),
    ("post", "/api/token/logout-all/"),
    ("post", "/api/token/revoke/"),
    ("post", "/api/password/change/"),
    ("delete", "/api/devices/{device}/"),
    ("post", "/signout/"),
    ("post", "/devices/{device}/revoke/"),
    ("post", "/devices/logout-others/"),
    ("post", "/devices/revoke-others/"),  # the 0.1 path of logout-others
]


@pytest.mark.parametrize(("method", "path"), UNSAFE_COOKIE_ENDPOINTS)
def test_every_cookie_authenticated_write_needs_the_csrf_token(user, method, path):
    signer = Client()
    signer.post("/signin/", {"username": user.username, "password": PASSWORD})
    browser = Client(enforce_csrf_checks=True)
    browser.cookies[COOKIE] = signer.cookies[COOKIE].value
    device = browser.get("/api/me/").json()["device"]["id"]
    response = getattr(browser, method)(path.format(device=device))
    assert response.status_code == 403
    assert browser.get("/api/me/").status_code == 200  # nothing happened


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/devices/{device}/"), ("delete", "/api/devices/{device}/")],
)
@pytest.mark.parametrize("device", ["someone else's", "random", "not-a-uuid"])
def test_device_ids_that_are_not_mine_are_a_404_on_every_endpoint(
    api, user, sign_in, method, path, device
):
    mine = sign_in(user)
    theirs = sign_in(UserFactory())
    device_id = {
        "someone else's": theirs["device"]["id"],
        "random": str(uuid.uuid4()),
        "not-a-uuid": "x",
    }[device]
    response = getattr(api, method)(
        path.format(device=device_id), HTTP_AUTHORIZATION=f"Bearer {mine['access']}"
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"


class CountingHasher(MD5PasswordHasher):
    """MD5, counting how often a password is hashed: the work an attacker could time."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def test_an_unknown_user_costs_the_same_hashing_as_a_wrong_password(api, user, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    user.set_password(PASSWORD)
    user.save()

    def hashing_for(username):
        CountingHasher.calls = 0
        response = api.post("/api/token/", {"username": username, "password": "wrong"})
        return response.status_code, response.json(), CountingHasher.calls

    wrong_password, unknown_user = hashing_for(user.username), hashing_for("nobody-here")
    assert wrong_password == unknown_user
    assert wrong_password[2] == 1  # one hash each: the timing says nothing about the user
