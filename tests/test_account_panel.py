"""The end users' panel (/account/): their own devices and sign-out history, nothing else."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from authtokens.account_admin import account_site
from authtokens.models import Device, Reason, RevocationEvent
from tests.conftest import bearer, cookie_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
DEVICES = "/account/authtokens/device/"
HISTORY = "/account/authtokens/revocationevent/"


@pytest.fixture
def frank(sign_in):
    """Frank: a browser in the panel, a phone, and Zoe (another user) with a device of hers."""
    frank = UserFactory(username="frank")
    browser = Client()
    device_id = cookie_login(browser, frank, device_name="Frank's laptop")
    phone = sign_in(frank, client="native", audience="Android-App", device_name="Frank's phone")
    zoe = sign_in(UserFactory(username="zoe"), device_name="Zoe's tablet")
    return {"user": frank, "browser": browser, "device": device_id, "phone": phone, "zoe": zoe}


def test_any_active_user_enters_and_sees_only_their_own_devices(frank):
    page = frank["browser"].get(DEVICES).content.decode()
    assert "Frank&#x27;s laptop" in page and "Frank&#x27;s phone" in page
    assert "Zoe&#x27;s tablet" not in page and ">zoe<" not in page  # (not in a random token)
    assert "Your devices" in page and "Sign out everywhere else" in page
    searched = frank["browser"].get(DEVICES, {"q": "Zoe"}).content.decode()
    assert "Zoe&#x27;s tablet" not in searched and "0 devices" in searched


def test_this_device_is_marked(frank):
    response = frank["browser"].get(DEVICES, {"o": "-7"})  # "this device" first
    rows = response.context["cl"].result_list
    assert [device.is_current for device in rows] == [True, False]
    assert str(rows[0].pk) == frank["device"]


@pytest.mark.parametrize("view", ["change/", "history/", "revoke/", "delete/"])
def test_someone_elses_device_answers_404_like_a_missing_one(frank, view):
    for device_id in (frank["zoe"]["device"]["id"], str(uuid.uuid4()), "not-a-uuid"):
        response = frank["browser"].get(f"{DEVICES}{device_id}/{view}")
        assert response.status_code == 404, (device_id, view)
    zoe_event = RevocationEvent.objects.create(
        user_id=Device.objects.get(pk=frank["zoe"]["device"]["id"]).user_id,
        level="device",
        reason=Reason.LOGOUT,
    )
    assert frank["browser"].get(f"{HISTORY}{zoe_event.pk}/change/").status_code == 404


def test_revoking_someone_elses_device_through_the_action_does_nothing(frank, api):
    theirs = frank["zoe"]["device"]["id"]
    form = {"action": "revoke_devices", "_selected_action": [theirs], "confirm": "yes"}
    frank["browser"].post(DEVICES, form)
    assert api.get("/api/me/", **bearer(frank["zoe"]["access"])).status_code == 200


def test_nothing_but_devices_and_history_is_registered():
    assert {model._meta.label for model in account_site._registry} == {
        "authtokens.Device",
        "authtokens.RevocationEvent",
    }


def test_the_panel_has_no_user_or_group_pages(frank):
    others = ("auth/user/", "auth/group/", "authtokens/refreshtoken/", "admin/logentry/")
    for path in (f"/account/{other}" for other in others):
        assert frank["browser"].get(path).status_code == 404


def test_revoke_the_selected_devices_after_a_confirmation(frank, api):
    phone = frank["phone"]["device"]["id"]
    form = {"action": "revoke_devices", "_selected_action": [phone]}
    confirm = frank["browser"].post(DEVICES, form).content.decode()
    assert "Sign out these devices?" in confirm and "Frank&#x27;s phone" in confirm
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 200
    done = frank["browser"].post(DEVICES, {**form, "confirm": "yes"}, follow=True)
    assert "Signed out 1 device." in done.content.decode()
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401
    event = RevocationEvent.objects.get(device_id=phone)
    assert event.reason == Reason.USER and event.actor_id == frank["user"].pk


def test_one_devices_revoke_button(frank, api):
    phone = frank["phone"]["device"]["id"]
    page = frank["browser"].get(f"{DEVICES}{phone}/change/").content.decode()
    assert f"{DEVICES}{phone}/revoke/" in page
    done = frank["browser"].post(f"{DEVICES}{phone}/revoke/", {"confirm": "yes"}, follow=True)
    assert "Signed out “Frank&#x27;s phone”." in done.content.decode()
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401


def test_sign_out_everywhere_else_keeps_this_browser(frank, api):
    url = f"{DEVICES}logout-others/"
    confirm = frank["browser"].get(url).content.decode()
    assert "Sign out every other device?" in confirm and "Frank&#x27;s phone" in confirm
    assert "Frank&#x27;s laptop" not in confirm
    done = frank["browser"].post(url, {"confirm": "yes"}, follow=True)
    assert "Signed out 1 other device." in done.content.decode()
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401
    assert frank["browser"].get(DEVICES).status_code == 200  # a fresh cookie, this device kept
    assert api.get("/api/me/", **bearer(frank["zoe"]["access"])).status_code == 200


def test_rename_a_device(frank):
    phone = frank["phone"]["device"]["id"]
    url = f"{DEVICES}{phone}/change/"
    assert frank["browser"].post(url, {"name": "  Work   phone "}).status_code == 302
    assert Device.objects.get(pk=phone).name == "Work phone"
    refused = frank["browser"].post(url, {"name": "   "})
    assert refused.status_code == 200 and Device.objects.get(pk=phone).name == "Work phone"
    assert frank["browser"].post(url, {"name": "x" * 101}).status_code == 200


def test_only_the_name_can_change(frank):
    phone = frank["phone"]["device"]["id"]
    url = f"{DEVICES}{phone}/change/"
    frank["browser"].post(url, {"name": "Phone", "kind": "web", "revoked_at": "2030-01-01"})
    device = Device.objects.get(pk=phone)
    assert device.kind == "native" and device.revoked_at is None


def test_a_signed_out_device_cannot_be_renamed(frank):
    phone = frank["phone"]["device"]["id"]
    frank["browser"].post(f"{DEVICES}{phone}/revoke/", {"confirm": "yes"})
    assert frank["browser"].post(f"{DEVICES}{phone}/change/", {"name": "New"}).status_code == 403


def test_the_history_says_who_why_and_when(frank, api, sign_in):
    staff = UserFactory(is_staff=True, is_superuser=True)
    phone = frank["phone"]["device"]["id"]
    frank["browser"].post(f"{DEVICES}{phone}/revoke/", {"confirm": "yes"})
    laptop2 = sign_in(frank["user"], device_name="Second laptop")
    staff_browser = Client()
    cookie_login(staff_browser, staff)
    revoke = f"/admin/authtokens/device/{laptop2['device']['id']}/revoke/"
    staff_browser.post(revoke, {"confirm": "yes"})
    api.post("/api/token/logout/", **bearer(frank["zoe"]["access"]))  # Zoe's: never shown
    page = frank["browser"].get(HISTORY)
    rows = {(event.device.name, event.reason) for event in page.context["cl"].result_list}
    assert rows == {("Frank's phone", Reason.USER), ("Second laptop", Reason.ADMIN)}
    html = page.content.decode()
    assert "You" in html and "An administrator" in html and staff.username not in html
    assert "Zoe&#x27;s tablet" not in html


def test_the_panel_needs_a_signed_in_user(db):
    response = Client().get(DEVICES)
    assert response.status_code == 302 and response.url.startswith("/account/login/")
    login = Client().get(response.url)
    assert login.status_code == 302
    assert login.url == "/signin/?next=%2Faccount%2Fauthtokens%2Fdevice%2F"


def test_a_deactivated_user_is_out_of_the_panel_at_once(frank):
    frank["user"].is_active = False
    frank["user"].save()
    assert frank["browser"].get(DEVICES).status_code == 302


def test_odd_filters_and_ids_are_a_clear_answer_never_a_500(frank):
    browser = frank["browser"]
    for path in ("/account/r/10/1/", f"/account/r/7/{frank['phone']['device']['id']}/"):
        assert browser.get(path).status_code == 404  # no "view on site" in the panel
    for query in ("name__regex=(", "last_used_at__year=99999999999999999999", "actor=2"):
        assert browser.get(f"{DEVICES}?{query}").status_code == 400, query
        assert browser.get(f"{HISTORY}?{query}").status_code == 400, query
    assert browser.get(DEVICES, {"kind": "native"}).status_code == 200  # the page's filters work
    assert browser.get(HISTORY, {"reason__exact": "user"}).status_code == 200


def test_odd_filters_in_the_staff_admin_go_back_to_the_list(db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    cookie_login(browser, staff)
    for path in (
        "/admin/authtokens/revocationevent/?created_at__year=99999999999999999999",
        "/admin/authtokens/device/?name__regex=(",
        "/admin/auth/user/?date_joined__year=99999999999999999999",
    ):
        response = browser.get(path)
        assert response.status_code == 302 and response.url.endswith("?e=1"), path
    assert browser.get("/admin/r/7/not-a-uuid/").status_code == 404
