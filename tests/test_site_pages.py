"""The site pages as a browser sees them, through Django's test client (issue 14, items 2-8).

Layout, overflow and accessibility are measured in Chromium: tests/browser/test_site_layout.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from authtokens import tokens
from authtokens.clients import describe, summarize
from authtokens.minting import default_name
from authtokens.models import Device, Reason
from tests.conftest import bearer
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
COOKIE = "__Host-authtokens"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
SHOP_APP = "ShopApp/2.3 (iPhone; iOS 17.5; Scale/3.00)"
NEW_PASSWORD = "a new and long passphrase 42"


def browser() -> Client:
    return Client(HTTP_USER_AGENT=CHROME)


def sign_in(client, user, password=PASSWORD, **extra):
    body = {"username": user.username, "password": password, **extra}
    return client.post("/signin/", body)


def signed_in(user, **extra) -> Client:
    client = browser()
    assert sign_in(client, user, **extra).status_code == 302
    return client


def page(response) -> str:
    return response.content.decode()


def messages_of(client) -> str:
    return page(client.get("/devices/"))


# Item 2: account pages.


def test_the_sign_in_page_links_to_a_password_reset_in_the_sites_style(db):
    sign_in_page = page(browser().get("/signin/"))
    assert 'href="/password/reset/"' in sign_in_page
    reset = browser().get("/password/reset/")
    assert reset.status_code == 200
    assert "authtokens/site.css" in page(reset) and "/admin/" not in page(reset)


def test_djangos_reset_address_leads_to_the_sites_page(db):
    response = browser().get("/accounts/password_reset/")
    assert response.status_code == 302 and response.url == "/password/reset/"


def test_the_demo_prints_mail_to_the_console_unless_told_otherwise(monkeypatch):
    import importlib

    import project.settings as demo

    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    assert importlib.reload(demo).EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    assert importlib.reload(demo).EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    monkeypatch.delenv("EMAIL_BACKEND")
    importlib.reload(demo)


def test_a_password_reset_runs_end_to_end_through_the_console_backend(settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    user = UserFactory(email="frank@example.com")
    other_browser = signed_in(user)
    client = browser()
    sent = client.post("/password/reset/", {"email": "frank@example.com"})
    assert sent.status_code == 302 and sent.url == "/password/reset/sent/"
    assert "Check your email" in page(client.get(sent.url))
    printed = capsys.readouterr().out
    link = re.search(r"http://testserver(/password/reset/\S+/\S+/)", printed)
    assert link, printed
    form = client.get(link.group(1), follow=True)
    assert "Choose a new password" in page(form)
    new = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    done = client.post(form.redirect_chain[-1][0], new, follow=True)
    assert "Password changed" in page(done) and 'href="/signin/"' in page(done)
    # Every device was signed out, and told why.
    refused = other_browser.get("/devices/")
    assert refused.url.startswith("/signin/?reason=password_changed")
    assert sign_in(browser(), user, password=NEW_PASSWORD).status_code == 302


def test_a_signed_in_browser_changes_its_password_and_stays_signed_in(user, sign_in):
    phone = sign_in(user)
    client = signed_in(user)
    new = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post("/password/", new)
    assert response.status_code == 302 and response.url == "/devices/"
    assert response.cookies[COOKIE].value  # fresh token under the new generation
    assert "Your password was changed" in messages_of(client)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert Device.objects.get(pk=phone["device"]["id"]).revoked_reason == Reason.PASSWORD_CHANGE


def test_the_password_page_counts_wrong_old_passwords_as_failed_sign_ins(user, settings):
    settings.AUTHTOKENS = {
        k: v for k, v in settings.AUTHTOKENS.items() if k not in {"FAILURE_LIMITS"}
    }
    client = signed_in(user)
    new = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    statuses = [
        client.post("/password/", {"old_password": f"guess{i}", **new}).status_code
        for i in range(12)
    ]
    assert statuses == [200] * 10 + [429] * 2
    right = client.post("/password/", {"old_password": PASSWORD, **new})
    assert right.status_code == 429 and 0 < int(right["Retry-After"]) <= 15 * 60
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# Item 3: one device per browser.


def test_signing_in_again_replaces_this_browsers_device_and_says_so(user):
    client = signed_in(user, device_name="First")
    first = Device.objects.get(name="First")
    assert sign_in(client, user, device_name="Second").status_code == 302
    first.refresh_from_db()
    assert first.revoked_at is not None
    listed = messages_of(client)
    assert "already signed in on this browser as “First”" in listed
    assert "First" not in listed.split("</caption>")[1]  # no ghost in the list
    assert Device.objects.filter(user=user).active().count() == 1


def test_the_sign_in_page_shows_who_is_signed_in(user):
    client = signed_in(user, device_name="Desk")
    shown = page(client.get("/signin/?next=/devices/"))
    assert "You are signed in" in shown and user.username in shown and "Desk" in shown
    assert 'href="/devices/"' in shown  # Continue, where they were going
    assert 'action="/signout/"' in shown and "Sign in as someone else" in shown


# Item 4: names people recognise.


@pytest.mark.parametrize(
    ("user_agent", "kind", "name", "detail"),
    [
        (CHROME, "Browser", "Chrome on Linux", "Chrome 156 on Linux"),
        (SHOP_APP, "App", "ShopApp on iOS", "ShopApp 2.3 on iOS"),
        ("ShopApp/2.3 (Linux; Android 14; Pixel 8)", "App", "ShopApp on Android", None),
        ("curl/8.5.0", "Script or tool", "curl", "curl 8.5"),
        ("python-requests/2.31.0", "Script or tool", "python-requests", None),
    ],
)
def test_clients_are_told_apart(user_agent, kind, name, detail):
    description = describe(user_agent)
    assert (str(description.kind), description.name) == (kind, name)
    if detail:
        assert summarize(user_agent) == detail


def test_unnamed_devices_are_named_after_their_user_agent(api, user):
    native = {"client": "native", "audience": "iPhone-App"}
    credentials = {"username": user.username, "password": PASSWORD}
    body = api.post("/api/token/", {**credentials, **native}, HTTP_USER_AGENT=SHOP_APP).json()
    assert Device.objects.get(pk=body["device"]["id"]).name == "ShopApp on iOS"
    assert default_name("native", "iPhone-App") == "iPhone-App"  # no User-Agent at all
    assert default_name("web", "web") == "Web browser"
    signed_in(user)
    assert Device.objects.get(user=user, kind="web").name == "Chrome on Linux"


def test_a_script_signing_in_without_client_is_not_labelled_a_browser(api, user):
    credentials = {"username": user.username, "password": PASSWORD}
    api.post("/api/token/", credentials, HTTP_USER_AGENT="curl/8.5.0")
    listed = messages_of(signed_in(user))
    assert 'curl 8.5 <span class="hint">(Script or tool)</span>' in listed


def test_a_device_is_renamed_from_the_devices_page(user, sign_in):
    phone = sign_in(user)["device"]["id"]
    client = signed_in(user)
    response = client.post(f"/devices/{phone}/rename/", {"name": "  Frank's   phone "})
    assert response.status_code == 302
    assert Device.objects.get(pk=phone).name == "Frank's phone"
    assert "“pytest” is now called “Frank&#x27;s phone”" in messages_of(client)
    assert client.post(f"/devices/{phone}/rename/", {"name": " "}).status_code == 302
    assert Device.objects.get(pk=phone).name == "Frank's phone"
    assert "A device name has 1 to 100 characters." in messages_of(client)


def test_nobody_renames_anyone_elses_device(user, sign_in):
    theirs = sign_in(UserFactory())["device"]["id"]
    response = signed_in(user).post(f"/devices/{theirs}/rename/", {"name": "Mine now"})
    assert response.status_code == 404
    assert Device.objects.get(pk=theirs).name == "pytest"


# Item 5: destructive actions ask first, and say what they did.


def test_signing_out_a_device_asks_first_and_names_it(user, sign_in):
    phone = sign_in(user, device_name="Frank's phone")["device"]["id"]
    client = signed_in(user)
    question = client.get(f"/devices/{phone}/revoke/")
    assert question.status_code == 200 and "Sign out “Frank&#x27;s phone”?" in page(question)
    assert Device.objects.get(pk=phone).revoked_at is None  # asking revoked nothing
    assert client.post(f"/devices/{phone}/revoke/").status_code == 302
    assert Device.objects.get(pk=phone).revoked_at is not None
    assert "“Frank&#x27;s phone” was signed out." in messages_of(client)


def test_signing_out_everywhere_else_asks_first(user, sign_in):
    phone = sign_in(user, device_name="Frank's phone")["device"]["id"]
    client = signed_in(user)
    question = client.get("/devices/revoke-others/")
    assert "Frank&#x27;s phone" in page(question)
    assert Device.objects.get(pk=phone).revoked_at is None
    client.post("/devices/revoke-others/")
    assert Device.objects.get(pk=phone).revoked_at is not None
    assert "Every other device was signed out (1 device)." in messages_of(client)


# Item 6: a wrong password keeps where you were going.


def test_a_wrong_password_keeps_next(user):
    client = browser()
    wrong = sign_in(client, user, password="nope", next="/devices/")
    assert '<input type="hidden" name="next" value="/devices/">' in page(wrong)
    assert sign_in(client, user, next="/devices/").url == "/devices/"


# Item 7: messages that say why.


def test_a_device_signed_out_by_a_password_change_says_so(user, api, sign_in):
    client = signed_in(user)
    access = sign_in(user)["access"]
    new = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert api.post("/api/password/change/", new, **bearer(access)).status_code in {200, 204}
    refused = client.get("/devices/")
    assert refused.url.startswith("/signin/?reason=password_changed")
    shown = page(client.get(refused.url))
    assert "because your password was changed" in shown


def test_at_the_session_maximum_the_user_reads_that_it_expired(user, settings):
    client = signed_in(user)
    maximum = settings.AUTHTOKENS["WEB_SESSION_MAX_LIFETIME"]
    max_age = int(client.cookies[COOKIE]["max-age"])
    assert max_age > maximum.total_seconds()  # the browser still sends it when it ends
    with time_machine.travel(tokens.now() + maximum + timedelta(minutes=1)):
        refused = client.get("/devices/")
    assert refused.url.startswith("/signin/?reason=expired")
    assert "Your session expired" in page(client.get(refused.url))


# Item 8: polish.


@pytest.mark.parametrize("path", ["/", "/devices/", "/password/", "/signin/"])
def test_private_pages_are_never_stored(user, path):
    response = signed_in(user).get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_error_pages_are_styled_with_a_way_back(user, settings):
    client = signed_in(user)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and 'href="/"' in page(missing)
    assert "site.css" in page(missing)
    not_allowed = client.get(f"/devices/{Device.objects.get().pk}/rename/")
    assert not_allowed.status_code == 405 and not_allowed["Allow"] == "POST"
    assert 'href="/"' in page(not_allowed)
    forged = Client(enforce_csrf_checks=True).post("/signin/", {"username": "x"})
    assert forged.status_code == 403 and "The form expired" in page(forged)
    assert 'href="/"' in page(forged)
    api_missing = client.get("/api/no-such-thing/")
    assert api_missing.status_code == 404 and api_missing.json()["code"] == "not_found"


def test_a_server_error_page_is_styled(rf):
    from authtokens.pages.errors import permission_denied, server_error

    response = server_error(rf.get("/devices/"))
    assert response.status_code == 500 and "Something went wrong" in page(response)
    assert 'href="/"' in page(response)
    assert server_error(rf.get("/api/me/")).status_code == 500
    refused = permission_denied(rf.get("/api/me/"), Exception())
    assert json.loads(refused.content)["code"] == "permission_denied"


def test_sign_out_from_the_address_bar_asks_instead_of_a_bare_405(user):
    client = signed_in(user, device_name="Desk")
    question = client.get("/signout/")
    assert question.status_code == 200
    assert "Sign out?" in page(question) and 'action="/signout/"' in page(question)
    assert Device.objects.get().revoked_at is None


def test_the_devices_page_names_its_parts_for_screen_readers(user, sign_in):
    sign_in(user, device_name="Frank's phone")
    shown = page(signed_in(user).get("/devices/"))
    assert "<caption>" in shown and 'class="skip" href="#main"' in shown
    assert 'aria-current="page"' in shown and 'aria-label="Sign out Frank&#x27;s phone"' in shown
    assert '<time datetime="' in shown and " UTC</time>" in shown


def test_the_locked_sign_in_page_says_when_to_retry(user, settings):
    settings.AUTHTOKENS = {
        k: v for k, v in settings.AUTHTOKENS.items() if k not in {"FAILURE_LIMITS"}
    }
    client = browser()
    for _ in range(10):
        sign_in(client, user, password="nope")
    locked = sign_in(client, user)
    assert locked.status_code == 429 and 0 < int(locked["Retry-After"]) <= 15 * 60
