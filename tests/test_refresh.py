"""Refresh tokens: rotation, theft detection with its grace window, and concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from authtokens import tokens
from authtokens.models import Device, RefreshToken
from authtokens.services import refresh_digest
from tests.conftest import bearer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def phone(user, sign_in):
    return sign_in(user, client="native", audience="Android-App", device_name="Frank's phone")


def refresh(api, token):
    return api.post("/api/token/refresh/", {"refresh": token}, format="json")


def test_native_sign_in_gets_a_refresh_token_stored_only_as_a_digest(phone):
    assert phone["refresh"]
    assert 90 * 24 * 3600 - 5 <= phone["refresh_expires_in"] <= 90 * 24 * 3600
    row = RefreshToken.objects.get()
    jti = tokens.decode(phone["refresh"], token_type=tokens.REFRESH)["jti"]
    assert row.digest == refresh_digest(jti)
    stored = " ".join(str(value) for value in RefreshToken.objects.values_list().get())
    assert jti not in stored and phone["refresh"] not in stored


def test_refresh_rotates_and_links_the_new_token(api, phone):
    response = refresh(api, phone["refresh"])
    assert response.status_code == 200
    body = response.json()
    assert body["refresh"] != phone["refresh"]
    assert body["device"] == phone["device"]
    assert api.get("/api/me/", **bearer(body["access"])).status_code == 200
    old, new = RefreshToken.objects.order_by("issued_at", "id")
    assert old.rotated_at is not None and old.replaced_by == new


def test_replay_after_the_grace_window_revokes_the_device(api, phone):
    rotated = refresh(api, phone["refresh"]).json()
    with time_machine.travel(tokens.now() + timedelta(seconds=11)):
        replay = refresh(api, phone["refresh"])
        assert replay.status_code == 401
        assert replay.json()["code"] == "refresh_token_reused"
        # Both the thief's and the victim's copies are dead now.
        assert refresh(api, rotated["refresh"]).json()["code"] == "token_revoked"
        assert api.get("/api/me/", **bearer(rotated["access"])).json()["code"] == "token_revoked"
    assert Device.objects.get().revoked_reason == "reuse_detected"


def test_replay_within_the_grace_window_is_served(api, phone):
    first = refresh(api, phone["refresh"]).json()
    with time_machine.travel(tokens.now() + timedelta(seconds=5)):
        second = refresh(api, phone["refresh"])  # the other tab
        assert second.status_code == 200
    for body in (first, second.json()):
        assert api.get("/api/me/", **bearer(body["access"])).status_code == 200
    assert Device.objects.get().revoked_at is None
    assert RefreshToken.objects.filter(rotated_at__isnull=True).count() == 2


def test_without_grace_any_replay_is_theft(api, phone, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REFRESH_REUSE_GRACE": timedelta(0)}
    refresh(api, phone["refresh"])
    with time_machine.travel(tokens.now() + timedelta(milliseconds=5)):
        assert refresh(api, phone["refresh"]).json()["code"] == "refresh_token_reused"


def test_without_rotation_the_refresh_token_is_kept(api, phone, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "ROTATE_REFRESH_TOKENS": False}
    body = refresh(api, phone["refresh"]).json()
    assert "refresh" not in body
    assert refresh(api, phone["refresh"]).status_code == 200


def test_expired_refresh_token_is_refused(api, phone):
    with time_machine.travel(tokens.now() + timedelta(days=91)):
        assert refresh(api, phone["refresh"]).json()["code"] == "token_expired"


def test_never_expiring_refresh_tokens_when_configured(api, user, sign_in, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REFRESH_TOKEN_LIFETIME": None}
    body = sign_in(user, client="native", audience="Android-App")
    assert "refresh_expires_in" not in body
    with time_machine.travel(tokens.now() + timedelta(days=3650)):
        assert refresh(api, body["refresh"]).status_code == 200


def test_access_token_is_not_a_refresh_token(api, phone):
    assert refresh(api, phone["access"]).json()["code"] == "wrong_token_type"


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": ["x"]}])
def test_malformed_refresh_bodies_get_400(api, db, body):
    assert api.post("/api/token/refresh/", body, format="json").status_code == 400


def test_concurrent_refreshes_of_one_token_follow_the_grace_rule(api, phone):
    """20 threads at once, inside the grace window: all served, one family, no row lost."""
    from rest_framework.test import APIClient

    barrier, results = threading.Barrier(20), []

    def worker():
        try:
            barrier.wait()
            results.append(refresh(APIClient(), phone["refresh"]).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 20
    device = Device.objects.get()
    assert device.revoked_at is None
    original = RefreshToken.objects.get(
        digest=refresh_digest(tokens.decode(phone["refresh"], token_type=tokens.REFRESH)["jti"])
    )
    assert original.replaced_by is not None  # rotated exactly once, by the first in line
    assert RefreshToken.objects.filter(device=device).count() == 21


def test_concurrent_replays_after_the_grace_window_all_fail_and_revoke(api, phone):
    refresh(api, phone["refresh"])
    from rest_framework.test import APIClient

    barrier, codes = threading.Barrier(10), []

    def worker():
        try:
            barrier.wait()
            codes.append(refresh(APIClient(), phone["refresh"]).json()["code"])
        finally:
            connection.close()

    with time_machine.travel(tokens.now() + timedelta(seconds=30)):
        threads = [threading.Thread(target=worker) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert set(codes) <= {"refresh_token_reused", "token_revoked"}
    assert "refresh_token_reused" in codes
    assert Device.objects.get().revoked_reason == "reuse_detected"


def test_an_idle_refresh_token_is_refused_even_if_it_never_expires(api, user, sign_in, settings):
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "REFRESH_TOKEN_LIFETIME": None,
        "REFRESH_IDLE_LIMIT": timedelta(days=30),
    }
    body = sign_in(user, client="native", audience="Android-App")
    start = tokens.now()
    with time_machine.travel(start + timedelta(days=29)):
        body = refresh(api, body["refresh"]).json()  # in use: the clock restarts
    with time_machine.travel(start + timedelta(days=58)):
        assert refresh(api, body["refresh"]).status_code == 200
    with time_machine.travel(start + timedelta(days=200)):
        assert refresh(api, body["refresh"]).json()["code"] == "token_revoked"
    assert Device.objects.get().revoked_reason == "idle"
