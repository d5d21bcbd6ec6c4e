"""One browser session: the token cookie signs a browser in to the site, the staff admin and
the end users' panel; every revocation path ends it there, and no Django session outlives it."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from authtokens import services
from authtokens.models import Device, Reason
from tests.conftest import bearer, cookie_login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
COOKIE = "__Host-authtokens"
NEW_PASSWORD = "a new horse battery staple 42"


def signed_in_through_the_page(user, next_url="/admin/"):
    browser = Client()
    response = browser.post(
        f"/signin/?next={next_url}",
        {"username": user.get_username(), "password": PASSWORD, "next": next_url},
    )
    assert response.status_code == 302 and response.url == next_url, response.content
    return browser


@pytest.fixture
def staff(db):
    return UserFactory(username="support", is_staff=True, is_superuser=True)


def no_authenticated_django_session():
    return not any("_auth_user_id" in s.get_decoded() for s in Session.objects.all())


def test_one_sign_in_serves_the_site_the_admin_and_the_panel(staff):
    browser = signed_in_through_the_page(staff)
    for page in ("/admin/", "/admin/auth/user/", "/account/", "/devices/", "/"):
        assert browser.get(page).status_code == 200, page
    assert browser.get("/api/me/").json()["username"] == "support"
    # The admin session is a device like any other: listed on the site and in the panel.
    device = Device.objects.get(user=staff)
    assert device.kind == "web" and device.name in browser.get("/devices/").content.decode()
    assert no_authenticated_django_session()


def test_the_admins_login_page_sends_people_to_the_sign_in_page(db):
    response = Client().get("/admin/")
    assert response.status_code == 302 and response.url == "/admin/login/?next=/admin/"
    login = Client().get(response.url)
    assert login.status_code == 302 and login.url == "/signin/?next=%2Fadmin%2F"
    foreign = Client().get("/admin/login/?next=https://evil.example/")
    assert foreign.url == "/signin/?next=%2Fadmin%2F"


def test_a_user_who_is_not_staff_is_told_so_and_pointed_to_their_panel(user):
    browser = Client()
    cookie_login(browser, user)
    assert browser.get("/admin/").url == "/admin/login/?next=/admin/"
    page = browser.get("/admin/login/?next=/admin/")
    assert page.status_code == 403
    html = page.content.decode()
    assert f"You are signed in as {user.username}" in html and 'href="/account/"' in html
    assert "Please enter the correct username and password" not in html


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(lambda staff, api: services.logout_all(staff), id="logout-all"),
        pytest.param(
            lambda staff, api: services.revoke_user(staff, reason=Reason.ADMIN), id="staff-action"
        ),
        pytest.param(
            lambda staff, api: (staff.set_password(NEW_PASSWORD), staff.save()), id="new-password"
        ),
        pytest.param(
            lambda staff, api: (setattr(staff, "is_active", False), staff.save()), id="deactivated"
        ),
        pytest.param(
            lambda staff, api: services.revoke_device(
                Device.objects.get(user=staff), reason=Reason.ADMIN
            ),
            id="device-revoked",
        ),
    ],
)
def test_every_revocation_ends_the_admin_session_on_its_next_request(staff, api, revoke):
    browser = signed_in_through_the_page(staff)
    assert browser.get("/admin/").status_code == 200
    revoke(staff, api)
    response = browser.get("/admin/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert response.cookies[COOKIE]["max-age"] == 0  # the dead cookie is dropped
    assert browser.get("/account/").status_code == 302
    assert no_authenticated_django_session()


def test_sign_out_everywhere_from_the_admin_ends_the_staff_members_own_session(staff):
    browser = signed_in_through_the_page(staff)
    form = {"action": "sign_out_everywhere", "_selected_action": [staff.pk], "confirm": "yes"}
    assert browser.post("/admin/auth/user/", form).status_code == 302
    assert browser.get("/admin/").status_code == 302


def test_a_password_reset_by_email_ends_the_admin_session(staff, mailoutbox):
    browser = signed_in_through_the_page(staff)
    staff.email = "support@example.com"
    staff.save()
    Client().post("/password/reset/", {"email": "support@example.com"})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/reset/" in line).strip()
    reset = Client()
    form_url = reset.get(link).url
    reset.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert browser.get("/admin/").status_code == 302
    assert no_authenticated_django_session()


def test_a_django_session_grants_nothing(staff):
    browser = Client()
    browser.force_login(staff)  # what django.contrib.auth.login() would leave behind
    assert browser.get("/admin/").status_code == 302
    assert browser.get("/account/").status_code == 302
    assert browser.get("/devices/").status_code == 302


@pytest.mark.parametrize("logout", ["/admin/logout/", "/account/logout/", "/accounts/logout/"])
def test_every_logout_button_signs_this_device_out(staff, api, logout):
    browser = signed_in_through_the_page(staff)
    device = Device.objects.get(user=staff)
    response = browser.post(logout)
    assert response.cookies[COOKIE]["max-age"] == 0
    device.refresh_from_db()
    assert device.revoked_at is not None and device.revoked_reason == Reason.LOGOUT
    assert browser.get("/admin/").status_code == 302


def test_changing_ones_password_in_the_admin_keeps_this_browser_only(staff, api, sign_in):
    browser = signed_in_through_the_page(staff)
    phone = sign_in(staff, client="native", audience="Android-App")
    form = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    done = browser.post("/admin/password_change/", form)
    assert done.status_code == 302 and COOKIE in done.cookies
    assert browser.get("/admin/").status_code == 200
    assert api.get("/api/me/", **bearer(phone["access"])).status_code == 401


def test_the_panels_password_change_keeps_this_browser_too(user, api, sign_in):
    browser = Client()
    cookie_login(browser, user)
    phone = sign_in(user, client="native", audience="Android-App")
    form = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert browser.post("/account/password_change/", form).status_code == 302
    assert browser.get("/account/").status_code == 200
    assert api.get("/api/me/", **bearer(phone["access"])).status_code == 401


@pytest.mark.parametrize("audience", ["iPhone-App", "Android-App"])
def test_an_app_token_in_the_cookie_is_no_browser_session(staff, sign_in, audience):
    """A native app's token may never expire: pasted into the cookie, it must not open the
    admin with no session maximum."""
    app = sign_in(staff, client="native", audience=audience)
    browser = Client()
    browser.cookies[COOKIE] = app["access"]
    assert browser.get("/api/me/").json()["code"] == "wrong_audience"
    for page in ("/admin/", "/devices/", "/account/"):
        browser.cookies[COOKIE] = app["access"]  # each refusal drops the cookie
        assert browser.get(page).status_code == 302, page


def test_staff_setting_their_own_password_on_their_user_page_keep_this_browser(staff, sign_in, api):
    browser = signed_in_through_the_page(staff)
    phone = sign_in(staff, client="native", audience="Android-App")
    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    done = browser.post(f"/admin/auth/user/{staff.pk}/password/", form, follow=True)
    assert "Signed you out of every other device" in done.content.decode()
    assert browser.get("/admin/").status_code == 200
    assert api.get("/api/me/", **bearer(phone["access"])).status_code == 401
