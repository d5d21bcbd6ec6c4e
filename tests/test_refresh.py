"""Refresh tokens: rotation, theft detection with its grace window, and concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from authtokens import tokens
from authtokens.models import Device, RefreshToken, RevocationEvent
from authtokens.services import refresh_digest
from tests.conftest import bearer
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def phone(user, sign_in):
    return sign_in(user, client="native", audience="Android-App", device_name="Frank's phone")


def refresh(api, token):
    return api.post("/api/token/refresh/", {"refresh": token}, format="json")


def row_of(token):
    return RefreshToken.objects.get(
        digest=refresh_digest(tokens.decode(token, token_type=tokens.REFRESH)["jti"])
    )


def live_rows():
    """The refresh-token rows that can still be rotated: at most one per device."""
    return list(RefreshToken.objects.filter(rotated_at__isnull=True))


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


def test_replay_within_the_grace_window_is_served_and_displaces_the_successor(api, phone):
    first = refresh(api, phone["refresh"]).json()
    with time_machine.travel(tokens.now() + timedelta(seconds=5)):
        second = refresh(api, phone["refresh"])  # the other tab, or a retried request
        assert second.status_code == 200
    assert api.get("/api/me/", **bearer(second.json()["access"])).status_code == 200
    assert Device.objects.get().revoked_at is None
    # The previous token now leads to the new one; the successor it displaced is dead.
    assert live_rows() == [row_of(second.json()["refresh"])]
    assert row_of(phone["refresh"]).replaced_by == row_of(second.json()["refresh"])
    displaced = row_of(first["refresh"])
    assert displaced.rotated_at is not None and displaced.replaced_by is None
    assert refresh(api, second.json()["refresh"]).status_code == 200


def test_the_displaced_successor_is_dead_and_using_it_is_reuse(api, phone):
    """r2 = refresh(r1); r3 = refresh(r1) in grace: r2 is dead, r3 works until r2 comes back."""
    r2 = refresh(api, phone["refresh"]).json()
    r3 = refresh(api, phone["refresh"]).json()
    r4 = refresh(api, r3["refresh"])
    assert r4.status_code == 200  # r3 works (and rotates to r4)
    r2_again = refresh(api, r2["refresh"])  # within grace of r2's own death: still reuse
    assert r2_again.status_code == 401
    assert r2_again.json()["code"] == "refresh_token_reused"
    assert Device.objects.get().revoked_reason == "reuse_detected"
    assert refresh(api, r4.json()["refresh"]).json()["code"] == "token_revoked"


def test_the_displaced_successor_is_reuse_before_anyone_uses_its_replacement(api, phone):
    r2 = refresh(api, phone["refresh"]).json()
    r3 = refresh(api, phone["refresh"]).json()
    assert refresh(api, r2["refresh"]).json()["code"] == "refresh_token_reused"
    assert refresh(api, r3["refresh"]).json()["code"] == "token_revoked"
    assert api.get("/api/me/", **bearer(r3["access"])).json()["code"] == "token_revoked"


def test_a_token_two_rotations_back_is_reuse_even_within_grace(api, phone):
    """r1 -> r2 -> r3, then r1 within grace: only the immediately previous token is served."""
    r2 = refresh(api, phone["refresh"]).json()
    r3 = refresh(api, r2["refresh"]).json()
    with time_machine.travel(tokens.now() + timedelta(seconds=2)):
        replay = refresh(api, phone["refresh"])
    assert replay.status_code == 401
    assert replay.json()["code"] == "refresh_token_reused"
    assert Device.objects.get().revoked_reason == "reuse_detected"
    assert refresh(api, r3["refresh"]).json()["code"] == "token_revoked"


def test_the_previous_token_is_served_after_its_successor_rotated_normally(api, phone):
    """r1 -> r2 -> r3, then r2 within grace (a retried request): served, r3 displaced."""
    r2 = refresh(api, phone["refresh"]).json()
    r3 = refresh(api, r2["refresh"]).json()
    r4 = refresh(api, r2["refresh"])
    assert r4.status_code == 200
    assert live_rows() == [row_of(r4.json()["refresh"])]
    assert refresh(api, r3["refresh"]).json()["code"] == "refresh_token_reused"


def test_the_grace_window_runs_from_the_first_rotation(api, phone):
    """Serving the previous token again does not restart its window: it cannot be stretched."""
    start = tokens.now()
    refresh(api, phone["refresh"])
    with time_machine.travel(start + timedelta(seconds=6)):
        assert refresh(api, phone["refresh"]).status_code == 200
    with time_machine.travel(start + timedelta(seconds=12)):
        assert refresh(api, phone["refresh"]).json()["code"] == "refresh_token_reused"
    assert Device.objects.get().revoked_reason == "reuse_detected"


def test_a_device_has_exactly_one_live_refresh_token_after_every_step(api, phone):
    current, previous = phone["refresh"], None
    assert live_rows() == [row_of(current)]
    for step in range(6):
        if previous is not None and step % 2:
            served = refresh(api, previous)  # a replay of the previous token, in grace
        else:
            served = refresh(api, current)
            previous = current
        assert served.status_code == 200, served.content
        current = served.json()["refresh"]
        assert live_rows() == [row_of(current)], step
    assert Device.objects.get().revoked_at is None


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


@pytest.mark.postgres  # concurrent writers queue on a row lock
def test_concurrent_refreshes_of_one_token_leave_exactly_one_live_token(api, phone):
    """20 threads at once on PostgreSQL: each gets 200 or a clean 401, one live token remains."""
    from rest_framework.test import APIClient

    barrier, results = threading.Barrier(20), []

    def worker():
        try:
            barrier.wait()
            response = refresh(APIClient(), phone["refresh"])
            results.append((response.status_code, response.json()))
        except Exception as error:  # an unhandled error would be a 500
            results.append((500, repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    assert {status for status, _ in results} <= {200, 401}, results
    assert all(
        body["code"] in {"token_revoked", "refresh_token_reused"}
        for status, body in results
        if status == 401
    )
    served = [body["refresh"] for status, body in results if status == 200]
    assert served
    device = Device.objects.get()
    assert device.revoked_at is None
    live = live_rows()
    assert len(live) == 1
    assert sum(row_of(token) == live[0] for token in served) == 1
    assert row_of(phone["refresh"]).replaced_by == live[0]
    winner = next(token for token in served if row_of(token) == live[0])
    assert refresh(api, winner).status_code == 200


@pytest.mark.postgres  # concurrent writers queue on a row lock
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


def test_a_user_deactivated_without_a_signal_is_refused_and_signed_out(api, user, phone, sign_in):
    browser = sign_in(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)  # no pre_save, no receiver
    response = refresh(api, phone["refresh"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    assert set(Device.objects.values_list("revoked_reason", flat=True)) == {"user_deactivated"}
    assert RevocationEvent.objects.filter(reason="user_deactivated", level="user").count() == 1
    for body in (phone, browser):
        assert api.get("/api/me/", **bearer(body["access"])).json()["code"] == "token_revoked"
    assert refresh(api, phone["refresh"]).json()["code"] == "token_revoked"


def test_a_user_model_without_is_active_counts_as_active():
    from authtokens.credentials import is_active as _is_active  # the rule refresh applies

    class Plain:  # a custom user model that has no is_active at all
        pass

    unset, inactive = Plain(), Plain()
    unset.is_active = None  # type: ignore[attr-defined]
    inactive.is_active = False  # type: ignore[attr-defined]
    assert _is_active(Plain()) and _is_active(unset) and not _is_active(inactive)


def test_a_device_kept_by_a_password_change_still_has_one_live_refresh_token(api, phone):
    body = api.post(
        "/api/password/change/",
        {"old_password": PASSWORD, "new_password": "a brand new passphrase 42"},
        format="json",
        **bearer(phone["access"]),
    ).json()
    assert live_rows() == [row_of(body["refresh"])]
    assert refresh(api, body["refresh"]).status_code == 200
    assert refresh(api, phone["refresh"]).status_code == 401  # the old generation
