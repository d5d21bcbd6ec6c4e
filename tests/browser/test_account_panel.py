"""In Chromium: an end user revokes their phone in their own panel; a staff member signs in
once for the site and the admin, and "sign out everywhere" ends that admin session."""

from __future__ import annotations

import pytest

from authtokens import services
from authtokens.models import Device
from tests.browser.test_admin_revocation import api_status, sign_in_to_admin
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
PANEL = "/account/authtokens/device/"


def sign_in_on_the_site(page, base_url, username, next_url):
    page.goto(f"{base_url}/signin/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_device_name", "Work laptop")
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base_url}{next_url}")


def test_an_end_user_revokes_their_phone_in_their_panel(live_server, page, screenshot):
    frank = UserFactory(username="frank")
    phone = services.issue(
        frank,
        client="native",
        audience="iPhone-App",
        device_name="Frank's iPhone",
        user_agent="ShopApp/2.3 (iPhone; iOS 17.5; Scale/3.00)",
        ip_address="203.0.113.7",
    )
    services.issue(frank, device_name="Home desktop", user_agent="Mozilla/5.0 (X11; Linux)")
    zoe = services.issue(UserFactory(username="zoe"), device_name="Zoe's tablet")
    assert api_status(live_server.url, phone.access) == 200

    sign_in_on_the_site(page, live_server.url, "frank", "/devices/")
    page.goto(f"{live_server.url}/account/")
    page.click(f"a[href='{PANEL}']")
    page.wait_for_selector("#result_list")
    assert page.get_by_text("Zoe's tablet").count() == 0
    screenshot(page, "account-panel")

    page.locator("#result_list tr", has_text="Frank's iPhone").locator(
        "input.action-select"
    ).check()
    page.select_option("select[name=action]", "revoke_devices")
    page.click("button[name=index]")
    page.wait_for_selector("text=Sign out these devices?")
    screenshot(page, "account-panel-confirm")
    page.click("input[value='Yes, revoke']")
    page.wait_for_selector("text=Signed out 1 device.")
    assert api_status(live_server.url, phone.access) == 401

    for view in ("change/", "revoke/", "history/"):
        response = page.goto(f"{live_server.url}{PANEL}{zoe.device.pk}/{view}")
        assert response.status == 404, view
    assert api_status(live_server.url, zoe.access) == 200

    page.goto(f"{live_server.url}/account/authtokens/revocationevent/")
    page.wait_for_selector("text=Frank's iPhone")
    screenshot(page, "account-history")


def test_staff_sign_in_once_and_sign_out_everywhere_ends_the_admin_session(
    live_server, page, chromium
):
    support = UserFactory(username="support", is_staff=True, is_superuser=True)
    sign_in_to_admin(page, live_server.url, "/admin/")
    page.click("text=View site")
    page.wait_for_url(f"{live_server.url}/")
    assert "support" in page.content()  # the site knows them: no second sign-in
    page.goto(f"{live_server.url}/devices/")
    assert Device.objects.get(user=support).name in page.content()  # the admin's session

    other = chromium.new_context().new_page()  # another superuser, in another browser
    UserFactory(username="lead", is_staff=True, is_superuser=True)
    sign_in_to_admin(other, live_server.url, "/admin/auth/user/", username="lead")
    other.locator("#result_list tr", has_text="support").locator("input.action-select").check()
    other.select_option("select[name=action]", "sign_out_everywhere")
    other.click("button[name=index]")
    other.click("input[value='Yes, revoke']")
    other.wait_for_selector("text=Signed 1 user out everywhere.")
    other.context.close()

    page.goto(f"{live_server.url}/admin/")
    page.wait_for_url("**/signin/**")
    assert page.url.startswith(f"{live_server.url}/signin/")
