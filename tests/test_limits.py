"""One limiter for every door that checks a secret: failures count, successes never do.

Sign-in (API, page, the admin's and Django's login), password change, refresh and
introspection all go through ``authtokens.limits``; the client address comes from
``clients.client_ip`` alone, so a client-sent X-Forwarded-For moves nothing.
"""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from urllib.parse import quote_plus

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.signals import user_login_failed
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from authtokens import tokens
from authtokens.checks import check_settings
from authtokens.clients import client_ip
from authtokens.models import Device
from tests.conftest import bearer, cookie_login, unreachable_default_cache
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
COOKIE = "__Host-authtokens"
NEW_PASSWORD = "a brand new passphrase 42"
INTROSPECT = "/api/token/introspect/"
SECRET = "introspection-secret-for-the-tests-0123456789"  # noqa: S105


@pytest.fixture
def default_limits(settings):
    """The limits authtokens ships with, not the suite's relaxed ones."""
    settings.AUTHTOKENS = {
        name: value
        for name, value in settings.AUTHTOKENS.items()
        if name not in {"FAILURE_LIMITS", "THROTTLE_RATES"}
    }


@pytest.fixture
def limits(settings, default_limits):
    """Set some limits; the others keep their defaults."""

    def apply(**values):
        settings.AUTHTOKENS = {**settings.AUTHTOKENS, "FAILURE_LIMITS": values}

    return apply


@pytest.fixture
def introspection_client(settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "INTROSPECTION_CLIENTS": {"billing": SECRET}}


def basic(client_id="billing", secret=SECRET):
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {encoded}"}


def attempt(api, username, password, **extra):
    return api.post("/api/token/", {"username": username, "password": password}, **extra)


def retry_after(response, at_most):
    value = int(response["Retry-After"])
    assert 0 < value <= at_most
    return value


class CountingHasher(MD5PasswordHasher):
    """MD5, counting how often a password is hashed: the CPU a locked-out attacker burns."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


# The client address: REMOTE_ADDR, unless trusted proxies are declared.


@pytest.mark.parametrize(
    ("count", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "10.0.0.1"),
        (0, {"REMOTE_ADDR": ""}, None),
        (
            1,
            {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.5"},
            "203.0.113.5",
        ),
        (
            2,
            {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.5, 10.0.0.2"},
            "203.0.113.5",
        ),
        (2, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "203.0.113.5"),
        (1, {"REMOTE_ADDR": "10.0.0.1"}, "10.0.0.1"),
        (1, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, unknown"}, None),
        (1, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": " 2001:DB8::1 "}, "2001:db8::1"),
    ],
)
def test_the_client_address(settings, count, meta, expected):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "TRUSTED_PROXY_COUNT": count}
    assert client_ip(meta) == expected


def test_with_one_trusted_proxy_its_forwarded_address_is_the_client(api, user, limits, settings):
    limits(sign_in_per_ip_and_username="3/h")
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "TRUSTED_PROXY_COUNT": 1}
    body = {"username": user.username, "password": PASSWORD}
    api.post("/api/token/", body, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert Device.objects.get().ip_address == "203.0.113.5"
    # What the client wrote left of the proxy's entry changes nothing.
    statuses = [
        attempt(api, user.username, "wrong", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 203.0.113.5")
        for i in range(4)
    ]
    assert [r.status_code for r in statuses] == [401, 401, 401, 429]
    # Another client behind the same proxy is not held up.
    other = attempt(api, user.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 200


# Sign-in through the API.


def test_a_spoofed_x_forwarded_for_does_not_escape_the_limit(api, user, default_limits):
    statuses = [
        attempt(api, user.username, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
        for i in range(40)
    ]
    assert 429 in statuses and statuses.index(429) < 39
    first = statuses.index(429)
    assert statuses == [401] * first + [429] * (40 - first)
    locked = attempt(api, user.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert locked.status_code == 429 and locked.json()["code"] == "throttled"
    assert set(locked.json()) == {"code", "detail"}
    retry_after(locked, 15 * 60)


def test_successful_sign_ins_never_count(api, user, default_limits):
    body = {"username": user.username, "password": PASSWORD}
    assert {api.post("/api/token/", body).status_code for _ in range(25)} == {200}
    assert {Client().post("/signin/", body).status_code for _ in range(12)} == {302}


def test_the_eleventh_person_behind_one_address_still_signs_in(api, db, default_limits):
    people = UserFactory.create_batch(15)
    for person in people:
        attempt(api, person.username, "a typo")  # everyone mistypes once
    assert {attempt(api, p.username, PASSWORD).status_code for p in people} == {200}


def test_distributed_guessing_meets_the_per_username_limit(api, user, limits):
    limits(sign_in_per_username="5/h")
    statuses = [
        attempt(api, user.username, f"guess{i}", REMOTE_ADDR=f"192.0.2.{i}").status_code
        for i in range(1, 8)
    ]
    assert statuses == [401] * 5 + [429] * 2
    locked = attempt(api, user.username, PASSWORD, REMOTE_ADDR="192.0.2.200")
    assert locked.status_code == 429
    retry_after(locked, 3600)
    other = UserFactory()  # the other accounts are not touched
    assert attempt(api, other.username, PASSWORD, REMOTE_ADDR="192.0.2.1").status_code == 200


def test_one_address_trying_many_accounts_meets_the_per_ip_cap(api, db, limits):
    limits(sign_in_per_ip="20/h")
    statuses = [attempt(api, f"someone{i}", "x").status_code for i in range(22)]
    assert statuses == [401] * 20 + [429] * 2
    assert attempt(api, "someone0", "x", REMOTE_ADDR="192.0.2.9").status_code == 401


def test_an_ipv6_client_counts_per_64_network(api, user, limits):
    limits(sign_in_per_ip_and_username="3/h")
    statuses = [
        attempt(api, user.username, "x", REMOTE_ADDR=f"2001:db8:1:2::{i}").status_code
        for i in range(1, 5)
    ]
    assert statuses == [401, 401, 401, 429]
    assert attempt(api, user.username, PASSWORD, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_a_locked_attempt_costs_no_password_hashing(api, user, limits, settings):
    limits(sign_in_per_ip_and_username="2/h")
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    user.set_password(PASSWORD)
    user.save()
    CountingHasher.calls = 0
    assert [attempt(api, user.username, "x").status_code for _ in range(2)] == [401, 401]
    assert CountingHasher.calls == 2
    assert attempt(api, user.username, PASSWORD).status_code == 429
    assert (
        Client().post("/signin/", {"username": user.username, "password": PASSWORD}).status_code
        == 429
    )
    assert CountingHasher.calls == 2


def test_the_lock_lifts_when_its_window_ends(api, user, limits):
    limits(sign_in_per_ip_and_username="2/15min")
    for _ in range(2):
        attempt(api, user.username, "x")
    locked = attempt(api, user.username, PASSWORD)
    wait = retry_after(locked, 15 * 60)
    with time_machine.travel(tokens.now() + timedelta(seconds=wait - 2)):
        assert attempt(api, user.username, PASSWORD).status_code == 429
    with time_machine.travel(tokens.now() + timedelta(seconds=wait + 1)):
        assert attempt(api, user.username, PASSWORD).status_code == 200


def test_a_limit_of_none_disables_it(api, user, limits, settings):
    limits(sign_in_per_ip_and_username=None, sign_in_per_username=None, sign_in_per_ip="30/h")
    assert {attempt(api, user.username, "x").status_code for _ in range(15)} == {401}
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "FAILURE_LIMITS": None}  # every limit off
    assert {attempt(api, user.username, "x").status_code for _ in range(20)} == {401}


def test_no_username_reaches_a_cache_key(api, db, redis, limits):
    limits(sign_in_per_ip_and_username="2/h")
    for _ in range(3):
        attempt(api, "Alice.Unusual-Name@example.org", "x")
    keys = [key.decode() for key in redis.keys("*")]
    assert keys and not any("alice" in key.lower() or "127.0.0.1" in key for key in keys)


def test_usernames_differing_only_in_case_share_their_count(api, user, limits):
    limits(sign_in_per_username="3/h")
    for i, name in enumerate(["ALICE", "alice", "Alice"]):
        attempt(api, name, "x", REMOTE_ADDR=f"192.0.2.{i}")
    assert attempt(api, "aLiCe", "x", REMOTE_ADDR="192.0.2.99").status_code == 429


def test_failures_send_user_login_failed(api, user, sign_in, default_limits):
    received = []

    def receiver(sender, credentials, request=None, **kwargs):
        received.append((credentials.get("username"), request is not None))

    access = sign_in(user)["access"]
    user_login_failed.connect(receiver)
    try:
        attempt(api, user.username, "x")
        Client().post("/signin/", {"username": user.username, "password": "x"})
        wrong = {"old_password": "x", "new_password": NEW_PASSWORD}
        assert api.post("/api/password/change/", wrong, **bearer(access)).status_code == 400
    finally:
        user_login_failed.disconnect(receiver)
    assert received == [(user.username, True)] * 3


def test_counts_move_into_the_process_when_the_cache_is_down(api, user, settings, limits, caplog):
    unreachable_default_cache(settings)
    limits(sign_in_per_ip_and_username="3/min")
    with caplog.at_level(logging.ERROR):
        statuses = [attempt(api, user.username, "x").status_code for _ in range(4)]
        page = Client().post("/signin/", {"username": user.username, "password": PASSWORD})
    assert statuses == [401, 401, 401, 429]
    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    errors = [r for r in caplog.records if r.name == "authtokens.limits"]
    assert len(errors) == 1 and "per process" in errors[0].getMessage()


# The sign-in page.


def test_the_sign_in_page_is_limited_whatever_x_forwarded_for_says(user, default_limits):
    client = Client()
    statuses = [
        client.post(
            "/signin/",
            {"username": user.username, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(12)
    ]
    assert statuses == [200] * 10 + [429] * 2
    right = client.post(
        "/signin/",
        {"username": user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.250",
    )
    assert right.status_code == 429 and COOKIE not in right.cookies
    assert b"Too many failed attempts" in right.content
    retry_after(right, 15 * 60)


# The admin's login, and Django's.


def test_the_admin_login_is_the_limited_sign_in_page(user, default_limits):
    """The admin has no password form of its own to guess at: its login page sends people to
    the app's sign-in page, whose failure limits hold for everyone, staff included."""
    user.is_staff = True
    user.save()
    client = Client()
    guess = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": "x"})
    assert guess.status_code == 302 and guess.url == "/signin/?next=%2Fadmin%2F"
    statuses = [
        client.post("/signin/", {"username": user.username, "password": f"guess{i}"}).status_code
        for i in range(15)
    ]
    assert statuses == [200] * 10 + [429] * 5
    right = client.post("/signin/", {"username": user.username, "password": PASSWORD})
    assert right.status_code == 429
    retry_after(right, 15 * 60)
    assert "_auth_user_id" not in client.session


def test_any_authenticate_call_is_refused_while_locked(rf, user, limits):
    from django.contrib.auth import authenticate

    limits(sign_in_per_ip_and_username="2/h")
    request = rf.post("/elsewhere/")
    for _ in range(2):
        assert authenticate(request, username=user.username, password="x") is None
    assert authenticate(request, username=user.username, password=PASSWORD) is None
    other_address = rf.post("/elsewhere/", REMOTE_ADDR="192.0.2.1")
    assert authenticate(other_address, username=user.username, password=PASSWORD) == user


# Password change.


def test_guessing_the_old_password_is_limited(api, user, sign_in, default_limits):
    access = sign_in(user)["access"]
    statuses = [
        api.post(
            "/api/password/change/",
            {"old_password": f"guess{i}", "new_password": NEW_PASSWORD},
            **bearer(access),
        ).status_code
        for i in range(25)
    ]
    assert statuses == [400] * 10 + [429] * 15
    right = api.post(
        "/api/password/change/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        **bearer(access),
    )
    assert right.status_code == 429 and right.json()["code"] == "throttled"
    retry_after(right, 15 * 60)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert api.get("/api/me/", **bearer(access)).status_code == 200  # nobody signed out


@pytest.mark.parametrize("path", ["/accounts/password_change/", "/admin/password_change/"])
def test_guessing_the_old_password_on_djangos_forms_is_limited(user, default_limits, path):
    """Django's password-change forms check the old password without authenticate(): the
    wrapper counts each wrong one as a failed sign-in of that user."""
    user.is_staff = True  # the admin's form is for staff
    user.save()
    browser = Client()
    cookie_login(browser, user)
    new = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    guesses = [browser.post(path, {"old_password": f"guess{i}", **new}) for i in range(12)]
    assert [r.status_code for r in guesses] == [200] * 10 + [429] * 2
    retry_after(guesses[-1], 15 * 60)
    right = browser.post(path, {"old_password": PASSWORD, **new})
    assert right.status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # One count for the user, whichever door: the API's sign-in is locked out as well.
    assert attempt(APIClient(), user.username, PASSWORD).status_code == 429


def test_the_demos_login_page_is_the_apps_sign_in(db):
    """Django's /accounts/login/ (the "Log in" link after a password reset) has no template
    of its own in the demo: it sends people to the one sign-in page, never a 500."""
    response = Client().get("/accounts/login/?next=/devices/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("authtokens:sign-in")) and "next=" in response.url


# Refresh.


def test_refresh_failures_are_limited_per_address(api, db, limits):
    limits(refresh_per_ip="2/min")
    responses = [api.post("/api/token/refresh/", {"refresh": "x.y.z"}) for _ in range(3)]
    assert [r.status_code for r in responses] == [401, 401, 429]
    retry_after(responses[-1], 60)
    other = api.post("/api/token/refresh/", {"refresh": "x.y.z"}, REMOTE_ADDR="192.0.2.1")
    assert other.status_code == 401


def test_successful_refreshes_never_count(api, user, sign_in, default_limits):
    refresh = sign_in(user, client="native", audience="Android-App")["refresh"]
    for _ in range(65):
        response = api.post("/api/token/refresh/", {"refresh": refresh})
        assert response.status_code == 200
        refresh = response.json()["refresh"]


# Introspection.


def test_guessing_introspection_secrets_is_limited(api, db, default_limits, introspection_client):
    statuses = [
        api.post(INTROSPECT, {"token": "x"}, **basic(secret=f"guess-{i}")).status_code
        for i in range(40)
    ]
    assert 429 in statuses
    first = statuses.index(429)
    assert statuses == [401] * first + [429] * (40 - first)
    locked = api.post(INTROSPECT, {"token": "x"}, **basic())
    assert locked.status_code == 429 and locked.json()["code"] == "throttled"
    retry_after(locked, 60)
    # One address cannot lock the client out: its own limit is higher.
    assert (
        api.post(INTROSPECT, {"token": "x"}, REMOTE_ADDR="192.0.2.7", **basic()).status_code == 200
    )


def test_introspection_failures_count_per_client_id(api, db, limits, introspection_client):
    limits(introspection_per_client="3/min")
    statuses = [
        api.post(
            INTROSPECT, {"token": "x"}, REMOTE_ADDR=f"192.0.2.{i}", **basic(secret="nope")
        ).status_code
        for i in range(1, 5)
    ]
    assert statuses == [401, 401, 401, 429]
    assert (
        api.post(INTROSPECT, {"token": "x"}, REMOTE_ADDR="192.0.2.9", **basic()).status_code == 429
    )


def test_introspection_client_credentials_are_form_decoded(api, user, sign_in, settings):
    client_id, secret = "billing:eu%1 +", "p+s:w%rd/ " + "x" * 32
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "INTROSPECTION_CLIENTS": {client_id: secret}}
    access = sign_in(user)["access"]
    encoded = basic(quote_plus(client_id), quote_plus(secret))
    response = api.post(INTROSPECT, {"token": access}, **encoded)
    assert response.status_code == 200 and response.json()["client_id"] == client_id
    assert api.post(INTROSPECT, {"token": access}, **basic(client_id, secret)).status_code == 401


@pytest.mark.parametrize(
    "clients", [{"billing": "short-secret"}, {"billing": 1234}, {"billing": None}, ["billing"]]
)
def test_a_weak_introspection_secret_is_a_check_error(settings, clients):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "INTROSPECTION_CLIENTS": clients}
    assert [m.id for m in check_settings()] == ["authtokens.E013"]


def test_a_strong_introspection_secret_passes_the_check(settings, introspection_client):
    assert check_settings() == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"FAILURE_LIMITS": "10/min"}, ["authtokens.E008"]),
        ({"FAILURE_LIMITS": {"sign_in": "10/min"}}, ["authtokens.E008"]),
        ({"FAILURE_LIMITS": {"sign_in_per_ip": "often"}}, ["authtokens.E008"]),
        ({"FAILURE_LIMITS": {"sign_in_per_ip": "0/min"}}, ["authtokens.E008"]),
        ({"TRUSTED_PROXY_COUNT": -1}, ["authtokens.E012"]),
        ({"TRUSTED_PROXY_COUNT": "1"}, ["authtokens.E012"]),
    ],
)
def test_bad_limit_settings_are_reported(settings, values, expected):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, **values}
    assert [m.id for m in check_settings()] == expected


def test_good_limit_settings_pass(settings):
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "TRUSTED_PROXY_COUNT": 2,
        "FAILURE_LIMITS": {
            "sign_in_per_ip": "100/15min",
            "refresh_per_ip": None,
            "sign_in_per_username": "30/h",
        },
    }
    assert check_settings() == []


def test_the_limiting_backend_must_come_first(settings):
    from authtokens.checks import check_limits_backend

    assert check_limits_backend() == []
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert [m.id for m in check_limits_backend()] == ["authtokens.W031"]


# The cookie flow keeps the token away from JavaScript.


def browser_signed_in(user):
    client = Client()
    response = client.post("/signin/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_cookie_extend_renews_the_cookie_and_leaves_the_token_out(user):
    client = browser_signed_in(user)
    old = client.cookies[COOKIE].value
    response = client.post("/api/token/extend/")
    assert response.status_code == 200
    body = response.json()
    assert "access" not in body and "refresh" not in body
    assert body["expires_in"] > 0 and body["device"]["id"]
    cookie = response.cookies[COOKIE]
    assert cookie.value != old and cookie["httponly"]
    assert client.get("/api/me/").status_code == 200


def test_a_cookie_password_change_renews_the_cookie_and_leaves_the_token_out(user):
    client = browser_signed_in(user)
    old = client.cookies[COOKIE].value
    response = client.post(
        "/api/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert "access" not in body and "refresh" not in body and body["device"]["id"]
    assert response.cookies[COOKIE].value != old
    assert client.get("/api/me/").status_code == 200


def test_a_bearer_extend_still_returns_the_token(api, user, sign_in):
    response = api.post("/api/token/extend/", **bearer(sign_in(user)["access"]))
    assert response.status_code == 200 and response.json()["access"]
    assert COOKIE not in response.cookies
