"""A staff member revokes a device in the admin, in Chromium; its next API call is refused."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model

from authtokens import services
from authtokens.models import DeletedDevice, Device
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def api_status(base_url: str, token: str) -> int:
    request = urllib.request.Request(
        f"{base_url}/api/me/", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  loopback only
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_staff_revokes_a_device_in_the_admin(live_server, page, screenshot):
    frank = UserFactory(username="frank")
    phone = services.issue(
        frank, client="native", audience="Android-App", device_name="Frank's phone"
    )
    services.issue(frank, device_name="Frank's laptop")
    UserFactory(username="support", is_staff=True, is_superuser=True)
    assert api_status(live_server.url, phone.access) == 200

    sign_in_to_admin(page, live_server.url, "/admin/authtokens/device/")
    page.wait_for_selector("#result_list")
    page.click("#toggle-nav-sidebar")  # room for every column in the screenshot

    row = page.locator("#result_list tr", has_text="Frank's phone")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "revoke_devices")
    page.click("button[name=index]")
    page.wait_for_selector("text=Revoke these devices?")
    page.click("input[value='Yes, revoke']")
    page.wait_for_selector("text=Revoked 1 device.")
    screenshot(page, "admin-devices")

    assert api_status(live_server.url, phone.access) == 401
    page.goto(f"{live_server.url}/admin/authtokens/device/?status=revoked")
    assert "Frank's phone" in page.content() and "Frank's laptop" not in page.content()


def sign_in_to_admin(page, base_url: str, next_url: str, username: str = "support") -> None:
    """The admin's login page sends staff to the site's sign-in page, and back: one session."""
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.wait_for_url("**/signin/**")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base_url}{next_url}")


def test_staff_revoke_one_device_from_its_page(live_server, page, screenshot):
    frank = UserFactory(username="frank")
    phone = services.issue(frank, device_name="Frank's phone")
    laptop = services.issue(frank, device_name="Frank's laptop")
    UserFactory(username="support", is_staff=True, is_superuser=True)
    device = Device.objects.get(name="Frank's phone")

    sign_in_to_admin(page, live_server.url, f"/admin/authtokens/device/{device.pk}/change/")
    page.click("a.revoke-device")
    page.wait_for_selector("text=Revoke this device?")
    page.click("input[value='Yes, revoke']")
    page.wait_for_selector("text=Revoked the device “Frank's phone” of frank.")
    assert page.url.endswith(f"/admin/authtokens/device/{device.pk}/change/")
    assert page.locator("a.revoke-device").count() == 0
    screenshot(page, "admin-device-revoked")

    assert api_status(live_server.url, phone.access) == 401
    assert api_status(live_server.url, laptop.access) == 200


def test_a_superuser_deletes_a_user_who_signed_in(live_server, page, screenshot):
    frank = UserFactory(username="frank")
    phone = services.issue(frank, device_name="Frank's phone")
    UserFactory(username="support", is_staff=True, is_superuser=True)

    sign_in_to_admin(page, live_server.url, f"/admin/auth/user/{frank.pk}/change/")
    page.wait_for_selector("text=Frank's phone")  # the signed-in devices inline
    page.click("a.deletelink")
    page.wait_for_selector("text=Are you sure you want to delete")
    assert "permission to delete" not in page.content()
    screenshot(page, "admin-delete-user")
    page.click("input[type=submit]")
    page.wait_for_selector("text=was deleted successfully")

    assert not get_user_model().objects.filter(username="frank").exists()
    assert DeletedDevice.objects.count() == 1
    assert api_status(live_server.url, phone.access) == 401
