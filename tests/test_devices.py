"""Users list and revoke their own devices, and never see anyone else's."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_device_list_shows_my_active_devices_and_marks_this_one(api, user, sign_in):
    laptop = sign_in(user, device_name="Laptop")
    phone = sign_in(user, client="native", audience="Android-App", device_name="Frank's phone")
    sign_in(UserFactory(), device_name="Someone else's")
    response = api.get("/api/devices/", **bearer(laptop["access"]))
    assert response.status_code == 200
    devices = {device["name"]: device for device in response.json()}
    assert set(devices) == {"Laptop", "Frank's phone"}
    assert devices["Laptop"]["current"] is True and devices["Frank's phone"]["current"] is False
    assert devices["Frank's phone"]["kind"] == "native"
    assert devices["Laptop"]["user_agent"] == "pytest"
    assert devices["Laptop"]["ip_address"] == "127.0.0.1"
    assert devices["Frank's phone"]["id"] == phone["device"]["id"]


def test_revoking_my_device_signs_it_out_and_hides_it(api, user, sign_in):
    laptop, phone = sign_in(user), sign_in(user, client="native", audience="Android-App")
    url = f"/api/devices/{phone['device']['id']}/"
    assert api.delete(url, **bearer(laptop["access"])).status_code == 204
    assert api.get("/api/me/", **bearer(phone["access"])).json()["code"] == "token_revoked"
    listed = [d["id"] for d in api.get("/api/devices/", **bearer(laptop["access"])).json()]
    assert listed == [laptop["device"]["id"]]
    assert api.delete(url, **bearer(laptop["access"])).status_code == 404


@pytest.mark.parametrize("method", ["get", "delete"])
def test_another_users_device_is_a_404(api, user, sign_in, method):
    mine, theirs = sign_in(user), sign_in(UserFactory())
    url = f"/api/devices/{theirs['device']['id']}/"
    response = getattr(api, method)(url, **bearer(mine["access"]))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.get("/api/me/", **bearer(theirs["access"])).status_code == 200


@pytest.mark.parametrize("device_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_unknown_or_malformed_device_ids_are_a_404(api, user, sign_in, device_id):
    response = api.delete(f"/api/devices/{device_id}/", **bearer(sign_in(user)["access"]))
    assert response.status_code == 404


def test_devices_need_authentication(api, db):
    assert api.get("/api/devices/").status_code == 401
