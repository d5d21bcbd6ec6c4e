"""Browser sessions through Django's test client: cookie flags, renewal, CSRF, pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from authtokens import tokens
from authtokens.models import Device
from tests.conftest import bearer
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
COOKIE = "__Host-authtokens"


def browser(csrf=True):
    return Client(
        enforce_csrf_checks=csrf,
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    )


def signed_in(user, device_name="Laptop"):
    client = browser(csrf=False)  # the sign-in form's own CSRF is Django's, tested below
    response = client.post(
        "/signin/", {"username": user.username, "password": PASSWORD, "device_name": device_name}
    )
    assert response.status_code == 302 and response.url == "/", response.content
    client.handler.enforce_csrf_checks = True
    return client, response


def csrf_token(client, path="/devices/"):
    client.get(path)
    return client.cookies["csrftoken"].value


def test_sign_in_sets_a_hardened_cookie(user):
    _, response = signed_in(user)
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Lax" and cookie["path"] == "/" and not cookie["domain"]
    # the session's maximum, plus a day to say "your session expired" when it ends
    assert 48 * 3600 - 5 <= int(cookie["max-age"]) <= 48 * 3600
    assert (
        int(tokens.decode(cookie.value, token_type=tokens.ACCESS)["exp"]) - tokens.now().timestamp()
        <= 15 * 60
    )
    assert tokens.decode(cookie.value, token_type=tokens.ACCESS)["aud"] == "web"


def test_without_secure_the_cookie_loses_the_host_prefix(user, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "COOKIE_SECURE": False}
    _, response = signed_in(user)
    assert "authtokens" in response.cookies and not response.cookies["authtokens"]["secure"]


def test_wrong_password_sets_no_cookie_and_says_nothing_about_the_user(user):
    client = browser(csrf=False)
    wrong = client.post("/signin/", {"username": user.username, "password": "nope"})
    unknown = client.post("/signin/", {"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 200
    assert COOKIE not in wrong.cookies
    assert COOKIE not in unknown.cookies
    for response in (wrong, unknown):
        assert response.context["form"].errors == {
            "__all__": [
                "Please enter a correct username and password. Note that both fields may be "
                "case-sensitive."
            ]
        }


def test_sign_in_form_needs_its_csrf_token(user):
    response = browser().post("/signin/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403


def test_next_is_followed_only_within_the_site(user):
    client = browser(csrf=False)
    body = {"username": user.username, "password": PASSWORD}
    assert client.post("/signin/", {**body, "next": "/devices/"}).url == "/devices/"
    assert client.post("/signin/", {**body, "next": "https://evil.example/"}).url == "/"


def test_pages_need_a_session_and_say_why(user):
    response = browser().get("/devices/")
    assert response.status_code == 302
    assert response.url == "/signin/?reason=required&next=%2Fdevices%2F"
    assert b"Please sign in to continue." in browser().get(response.url).content


def test_an_expired_session_is_sent_to_sign_in_with_a_message(user):
    client, _ = signed_in(user)
    with time_machine.travel(tokens.now() + timedelta(minutes=16)):
        response = client.get("/")
    assert response.status_code == 302 and "reason=expired" in response.url
    assert response.cookies[COOKIE]["max-age"] == 0  # the dead cookie is dropped
    assert b"Your session expired" in client.get(response.url).content


def test_a_session_revoked_elsewhere_is_signed_out(user, api):
    client, response = signed_in(user)
    device_id = tokens.decode(response.cookies[COOKIE].value, token_type=tokens.ACCESS)["did"]
    Device.objects.get(pk=device_id)
    other = api.post("/api/token/", {"username": user.username, "password": PASSWORD}).json()
    api.delete(f"/api/devices/{device_id}/", **bearer(other["access"]))
    page = client.get("/")
    assert page.status_code == 302 and "reason=revoked" in page.url


def test_an_active_session_is_renewed_past_half_its_life(user):
    client, response = signed_in(user)
    first = response.cookies[COOKIE].value
    with time_machine.travel(tokens.now() + timedelta(minutes=5)):
        assert COOKIE not in client.get("/").cookies  # more than half left: no renewal
    with time_machine.travel(tokens.now() + timedelta(minutes=9)):
        renewed = client.get("/").cookies[COOKIE]
        claims = tokens.decode(renewed.value, token_type=tokens.ACCESS)
    assert renewed.value != first
    assert claims["exp"] - claims["iat"] == 15 * 60
    with time_machine.travel(tokens.now() + timedelta(minutes=20)):
        assert client.get("/").status_code == 200  # alive on the renewed token


def test_renewal_stops_at_the_session_maximum(user, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "WEB_SESSION_MAX_LIFETIME": timedelta(minutes=20)}
    client, _ = signed_in(user)
    with time_machine.travel(tokens.now() + timedelta(minutes=10)):
        renewed = client.get("/").cookies[COOKIE].value
        claims = tokens.decode(renewed, token_type=tokens.ACCESS)
        assert claims["exp"] - claims["iat"] in (599, 600)  # capped by the 20-minute session
    with time_machine.travel(tokens.now() + timedelta(minutes=21)):
        assert "reason=expired" in client.get("/").url


def test_cookie_authenticates_api_calls_and_unsafe_ones_need_csrf(user):
    client, _ = signed_in(user)
    assert client.get("/api/me/").json()["username"] == user.username
    refused = client.post("/api/token/logout/")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = csrf_token(client)
    assert client.post("/api/token/logout/", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert client.get("/api/me/").status_code == 401


def test_bearer_calls_need_no_csrf(user, sign_in):
    body = sign_in(user)
    response = browser().post("/api/token/logout/", **bearer(body["access"]))
    assert response.status_code == 204


def test_sign_out_revokes_the_device_and_clears_the_cookie(user):
    client, response = signed_in(user)
    old_cookie = response.cookies[COOKIE].value
    assert client.post("/signout/").status_code == 403  # no CSRF token
    signed_out = client.post("/signout/", {"csrfmiddlewaretoken": csrf_token(client, "/")})
    assert signed_out.status_code == 302 and "reason=signed_out" in signed_out.url
    assert signed_out.cookies[COOKIE]["max-age"] == 0
    replay = browser()
    replay.cookies[COOKIE] = old_cookie
    assert replay.get("/api/me/").json()["code"] == "token_revoked"


def test_devices_page_lists_only_my_devices_and_marks_this_one(user, sign_in):
    client, _ = signed_in(user, device_name="Work laptop")
    sign_in(user, client="native", audience="Android-App", device_name="Frank's phone")
    sign_in(UserFactory(), device_name="Not mine")
    page = client.get("/devices/").content.decode()
    assert "Work laptop" in page and "Frank&#x27;s phone" in page and "Not mine" not in page
    assert "This device" in page and "Chrome 156 on Linux" in page and "127.0.0.1" in page


def test_revoking_another_device_from_the_page(user, sign_in, api):
    client, _ = signed_in(user)
    phone = sign_in(user, client="native", audience="Android-App")
    token = csrf_token(client)
    response = client.post(
        f"/devices/{phone['device']['id']}/revoke/", {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and response.url == "/devices/"
    assert api.get("/api/me/", **bearer(phone["access"])).status_code == 401
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("whose", ["someone else's", "unknown"])
def test_a_forged_device_id_is_a_404(user, sign_in, whose):
    import uuid

    client, _ = signed_in(user)
    other = sign_in(UserFactory())
    device_id = other["device"]["id"] if whose == "someone else's" else uuid.uuid4()
    response = client.post(
        f"/devices/{device_id}/revoke/", {"csrfmiddlewaretoken": csrf_token(client)}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/devices/logout-others/", "/devices/revoke-others/"])
def test_sign_out_everywhere_else_keeps_this_browser(user, sign_in, api, path):
    """``logout-others``, and the 0.1 path of the same action, which still works."""
    client, _ = signed_in(user)
    phone = sign_in(user, client="native", audience="Android-App")
    response = client.post(path, {"csrfmiddlewaretoken": csrf_token(client)})
    assert response.status_code == 302 and COOKIE in response.cookies  # a fresh token
    assert api.get("/api/me/", **bearer(phone["access"])).status_code == 401
    assert client.get("/devices/").status_code == 200


def test_pages_send_security_headers(user):
    client, _ = signed_in(user)
    response = client.get("/devices/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
