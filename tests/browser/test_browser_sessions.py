"""Browser sessions in real Chromium against a live server: what a person would see."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
COOKIE = "__Host-authtokens"


def sign_in(page, base_url, user, device_name="Work laptop"):
    page.goto(f"{base_url}/signin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_device_name", device_name)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Hello')")


def api_status(base_url, cookie_value):
    request = urllib.request.Request(
        f"{base_url}/api/me/", headers={"Cookie": f"{COOKIE}={cookie_value}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  loopback only
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def token_cookie(context):
    return next(cookie for cookie in context.cookies() if cookie["name"] == COOKIE)


def test_the_token_cookie_is_out_of_javascripts_reach(live_server, page, screenshot):
    user = UserFactory(username="frank")
    page.goto(f"{live_server.url}/signin/?reason=required")
    screenshot(page, "sign-in")
    sign_in(page, live_server.url, user)
    assert COOKIE not in page.evaluate("document.cookie")
    cookie = token_cookie(page.context)
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"


def test_an_active_page_outlives_several_token_lifetimes_and_an_idle_one_ends(
    live_server, page, settings
):
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "WEB_ACCESS_TOKEN_LIFETIME": timedelta(seconds=3),
        "LEEWAY": timedelta(0),
    }
    sign_in(page, live_server.url, UserFactory())
    started = time.monotonic()
    while time.monotonic() - started < 10:  # more than three lifetimes of clicking around
        page.click("text=Your devices")
        assert page.locator("h1").inner_text() == "Your devices"
        page.click("a.brand")
        time.sleep(0.5)
    time.sleep(4)  # idle past the lifetime
    page.click("text=Your devices")
    page.wait_for_selector("text=Your session expired. Please sign in again.")
    assert "/signin/" in page.url


def test_a_cross_site_post_is_refused(live_server, page):
    sign_in(page, live_server.url, UserFactory())
    # A forged request carrying the cookie but no CSRF token.
    forged = page.context.request.post(f"{live_server.url}/api/token/logout/")
    assert forged.status == 403 and "CSRF" in forged.json()["detail"]
    # A form on another site: SameSite=Lax keeps the cookie out of its POST.
    attacker = "http://attacker.test/"
    form = f'<form method="post" action="{live_server.url}/signout/"><button>Win</button></form>'
    page.route(attacker, lambda route: route.fulfill(content_type="text/html", body=form))
    page.goto(attacker)
    page.click("button")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/devices/")
    assert page.locator("h1").inner_text() == "Your devices"  # still signed in


def test_revoking_one_browser_from_the_others_devices_page(live_server, chromium, screenshot):
    user = UserFactory(username="frank")
    laptop = chromium.new_context(viewport={"width": 1100, "height": 600})
    phone = chromium.new_context()
    try:
        laptop_page, phone_page = laptop.new_page(), phone.new_page()
        sign_in(phone_page, live_server.url, user, device_name="Frank's phone")
        sign_in(laptop_page, live_server.url, user, device_name="Work laptop")
        laptop_page.click("text=Your devices")
        screenshot(laptop_page, "devices")
        row = laptop_page.locator("tr", has_text="Frank's phone")
        row.get_by_role("link", name="Sign out Frank's phone").click()
        laptop_page.get_by_role("button", name="Sign out “Frank's phone”").click()  # asked first
        laptop_page.wait_for_selector("text=“Frank's phone” was signed out.")
        phone_page.reload()
        phone_page.wait_for_selector("text=this device was signed out elsewhere")
        laptop_page.reload()
        assert laptop_page.locator("h1").inner_text() == "Your devices"
    finally:
        laptop.close()
        phone.close()


def test_a_signed_out_cookie_replayed_by_hand_is_rejected(live_server, page):
    sign_in(page, live_server.url, UserFactory())
    old_value = token_cookie(page.context)["value"]
    assert api_status(live_server.url, old_value) == 200
    page.click("text=Sign out")
    page.wait_for_selector("text=You have signed out.")
    assert all(cookie["name"] != COOKIE for cookie in page.context.cookies())
    assert api_status(live_server.url, old_value) == 401
