"""Every site page in Chromium at 320, 375 and 1280 px: no sideways scrolling, every action on
screen, no serious or critical axe-core finding, light and dark (issue 14)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from authtokens import services
from authtokens.models import Device
from tests.browser.axe import axe_source, blocking_violations
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
SHOP_APP = "ShopApp/2.3 (iPhone; iOS 17.5; Scale/3.00)"
NEW_PASSWORD = "a new and long passphrase 42"
# What a person acts on: each must be inside the viewport's width.
ACTIONS = "button, a.button, summary, input:not([type=hidden]), nav a"
OVERFLOW = """() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    outside: [...document.querySelectorAll(arguments_selector)]
        .filter((el) => el.getClientRects().length > 0)
        .filter((el) => {
            const box = el.getBoundingClientRect();
            return box.left < 0 || box.right > window.innerWidth;
        })
        .map((el) => el.outerHTML.slice(0, 120)),
})"""


def sign_in(page: Any, base_url: str, user: Any, device_name: str = "Frank's work laptop") -> None:
    page.goto(f"{base_url}/signin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_device_name", device_name)
    page.click("form button[type=submit]")
    page.wait_for_selector("h1:has-text('Hello')")


def frank_with_devices() -> Any:
    user = UserFactory(username="frank", email="frank@example.com")
    services.issue(
        user, client="native", audience="iPhone-App", user_agent=SHOP_APP, ip_address="2001:db8::1"
    )
    services.issue(
        user,
        device_name="The family's shared computer in the living room, by the window",
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
        ip_address="203.0.113.77",
    )
    return user


def every_page(base_url: str, user: Any) -> list[tuple[str, str]]:
    """(name, path) of every page a person can reach, signed in as ``user``."""
    phone = Device.objects.filter(user=user, kind="native").first()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return [
        ("home", "/"),
        ("devices", "/devices/"),
        ("revoke one", f"/devices/{phone.pk}/revoke/"),
        ("revoke others", "/devices/revoke-others/"),
        ("sign out", "/signout/"),
        ("sign in while signed in", "/signin/?next=/devices/"),
        ("password change", "/password/"),
        ("password reset", "/password/reset/"),
        ("reset sent", "/password/reset/sent/"),
        ("reset confirm", f"/password/reset/{uid}/{token}/"),
        ("reset link used", f"/password/reset/{uid}/not-a-token/"),
        ("reset complete", "/password/reset/done/"),
        ("not found", "/no-such-page/"),
        ("not allowed", f"/devices/{phone.pk}/rename/"),
    ]


def check(page: Any, name: str, source: str, problems: list[str]) -> None:
    measured = page.evaluate(OVERFLOW.replace("arguments_selector", repr(ACTIONS)))
    if measured["scrollWidth"] > measured["innerWidth"]:
        problems.append(f"{name}: {measured['scrollWidth']} px wide in {measured['innerWidth']}")
    problems.extend(f"{name}: off screen: {html}" for html in measured["outside"])
    problems.extend(f"{name}: {finding}" for finding in blocking_violations(page, source))


@pytest.mark.parametrize(
    ("width", "scheme"), [(320, "light"), (375, "dark"), (375, "light"), (1280, "dark")]
)
def test_every_page_fits_and_passes_axe(live_server, chromium, width, scheme, screenshot):
    source = axe_source()
    user = frank_with_devices()
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    problems: list[str] = []
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/signin/?reason=expired")
        check(page, "sign in", source, problems)
        page.goto(f"{live_server.url}/signin/?reason=expired")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "wrong")
        page.click("form button[type=submit]")
        check(page, "sign in, wrong password", source, problems)
        sign_in(page, live_server.url, user)
        for name, path in every_page(live_server.url, user):
            page.goto(f"{live_server.url}{path}")
            for summary in page.locator("details > summary").all():  # open every disclosure
                summary.click()
            check(page, name, source, problems)
        page.goto(f"{live_server.url}/devices/")
        if width == 375:
            screenshot(page, f"devices-phone-{scheme}" if scheme == "dark" else "devices-phone")
        page.context.clear_cookies(name="csrftoken")
        page.goto(f"{live_server.url}/signout/")
        page.context.clear_cookies(name="csrftoken")
        page.click("main form button[type=submit]")
        page.wait_for_selector("text=The form expired")
        check(page, "CSRF failure", source, problems)
    finally:
        context.close()
    assert problems == []


def test_every_device_action_is_reachable_on_a_phone(live_server, chromium):
    """At 320 px, the devices page is a list of cards whose Sign out links can be pressed."""
    user = frank_with_devices()
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        sign_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/devices/")
        link = page.get_by_role("link", name="Sign out ShopApp on iOS")
        link.click()  # Playwright refuses to click what is off screen or covered
        page.get_by_role("button", name="Sign out “ShopApp on iOS”").click()
        page.wait_for_selector("text=“ShopApp on iOS” was signed out.")
    finally:
        context.close()


def test_a_password_reset_in_chromium_through_the_mail(live_server, page, mailoutbox, screenshot):
    """The whole flow as a person runs it: the link from the mail, a new password, sign in."""
    user = UserFactory(username="frank", email="frank@example.com")
    page.goto(f"{live_server.url}/signin/")
    page.click("text=Forgot your password?")
    page.fill("#id_email", "frank@example.com")
    page.click("main form button[type=submit]")
    page.wait_for_selector("h1:has-text('Check your email')")
    link = re.search(r"https?://\S+/password/reset/\S+/\S+/", mailoutbox[0].body)
    assert link, mailoutbox[0].body
    page.goto(link.group(0))
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    screenshot(page, "password-reset")
    page.click("main form button[type=submit]")
    page.wait_for_selector("h1:has-text('Password changed')")
    page.click("main a.button")
    page.fill("#id_username", user.username)
    page.fill("#id_password", NEW_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("h1:has-text('Hello')")


def test_times_are_shown_in_the_readers_zone(live_server, chromium):
    user = frank_with_devices()
    context = chromium.new_context(timezone_id="Pacific/Auckland", locale="en-NZ")
    try:
        page = context.new_page()
        sign_in(page, live_server.url, user)
        signed_in_at = page.locator("main time").first
        assert re.search(r"NZ[DS]T|GMT\+1[23]", signed_in_at.inner_text())  # rewritten
        assert "UTC" not in signed_in_at.inner_text()
        page.goto(f"{live_server.url}/devices/")
        last_used = page.locator("td time[data-local=relative]").first
        assert last_used.inner_text() == "just now"  # relative text kept...
        assert re.search(
            r"NZ[DS]T|GMT\+1[23]", last_used.get_attribute("title")
        )  # ...local on hover
    finally:
        context.close()


def test_signing_in_again_in_chromium_replaces_the_device(live_server, page):
    user = UserFactory(username="frank")
    sign_in(page, live_server.url, user, device_name="Before")
    page.goto(f"{live_server.url}/signin/")
    page.wait_for_selector("h1:has-text('You are signed in')")
    page.click("text=Sign in as someone else")
    sign_in_again = page.locator("details form")
    sign_in_again.locator("#id_username").fill(user.username)
    sign_in_again.locator("#id_password").fill(PASSWORD)
    sign_in_again.locator("#id_device_name").fill("After")
    sign_in_again.locator("button[type=submit]").click()
    page.wait_for_selector("text=already signed in on this browser as “Before”")
    page.goto(f"{live_server.url}/devices/")
    names = page.locator(".device-name").all_inner_texts()
    assert names == ["After"]


def test_at_the_session_maximum_chromium_says_the_session_expired(live_server, page, settings):
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "WEB_ACCESS_TOKEN_LIFETIME": timedelta(seconds=2),
        "WEB_SESSION_MAX_LIFETIME": timedelta(seconds=4),
        "LEEWAY": timedelta(0),
    }
    sign_in(page, live_server.url, UserFactory())
    for _ in range(14):  # kept active past the maximum: renewal stops there
        page.goto(f"{live_server.url}/devices/")
        if "/signin/" in page.url:
            break
        page.wait_for_timeout(500)
    assert "/signin/" in page.url
    page.wait_for_selector("text=Your session expired. Please sign in again.")
