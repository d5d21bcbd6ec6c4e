"""A password change or reset ends the user's tokens, whatever path made it.

README, Guarantees: "A password change or reset through any path that saves the user ends
every token of the user".
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

from authtokens.models import Device, RevocationEvent
from tests.conftest import bearer, cookie_login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def signed_in(user, sign_in):
    """Two devices of ``user`` and one of someone else."""
    return {
        "laptop": sign_in(user),
        "phone": sign_in(user, client="native", audience="Android-App"),
        "other": sign_in(UserFactory()),
    }


def assert_all_revoked(api, signed_in, reason="password_change"):
    for name in ("laptop", "phone"):
        response = api.get("/api/me/", **bearer(signed_in[name]["access"]))
        assert response.status_code == 401 and response.json()["code"] == "token_revoked", name
    refresh = api.post("/api/token/refresh/", {"refresh": signed_in["phone"]["refresh"]})
    assert refresh.status_code == 401
    assert api.get("/api/me/", **bearer(signed_in["other"]["access"])).status_code == 200
    assert RevocationEvent.objects.filter(level="user", reason=reason).count() == 1


def test_set_password_then_save(api, user, signed_in):
    user.set_password(NEW_PASSWORD)
    user.save()
    assert_all_revoked(api, signed_in)
    assert RevocationEvent.objects.get().actor is None  # the system


def test_saving_without_a_password_change_revokes_nothing(api, user, signed_in):
    user.first_name = "Frank"
    user.save()
    user.save(update_fields=["last_login"])
    assert api.get("/api/me/", **bearer(signed_in["laptop"]["access"])).status_code == 200
    assert not RevocationEvent.objects.exists()


def test_admin_sets_someone_elses_password(api, user, signed_in):
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    cookie_login(browser, staff)
    response = browser.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    assert_all_revoked(api, signed_in)
    assert RevocationEvent.objects.get().actor == staff


def test_password_change_view(api, user, signed_in):
    browser = Client()
    cookie_login(browser, user)
    response = browser.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert_all_revoked(api, signed_in)


def test_password_reset_email_flow(api, user, signed_in):
    browser = Client()
    browser.post("/password/reset/", {"email": user.email})  # the site's page (issue 14)
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = browser.get(link).url  # the view swaps the token for a session marker
    response = browser.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response.url == "/password/reset/done/"
    assert_all_revoked(api, signed_in)


def test_changepassword_command(api, user, signed_in, monkeypatch):
    from django.contrib.auth.management.commands import changepassword

    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt=None: NEW_PASSWORD)
    call_command("changepassword", user.username, stdout=None)
    assert_all_revoked(api, signed_in)


def test_password_changed_with_a_queryset_update_ends_refresh_tokens(api, user, signed_in):
    get_user_model().objects.filter(pk=user.pk).update(password="pbkdf2_sha256$changed")
    response = api.post("/api/token/refresh/", {"refresh": signed_in["phone"]["refresh"]})
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    # ...and, once seen, every token of the user.
    assert api.get("/api/me/", **bearer(signed_in["laptop"]["access"])).status_code == 401


def test_api_password_change_keeps_the_calling_device(api, user, signed_in):
    laptop = signed_in["laptop"]
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = api.post("/api/password/change/", body, **bearer(laptop["access"]))
    assert response.status_code == 200
    fresh = response.json()
    assert fresh["device"]["id"] == laptop["device"]["id"]
    assert api.get("/api/me/", **bearer(fresh["access"])).status_code == 200
    assert api.get("/api/me/", **bearer(laptop["access"])).status_code == 401  # the old token
    assert api.get("/api/me/", **bearer(signed_in["phone"]["access"])).status_code == 401
    assert Device.objects.get(pk=laptop["device"]["id"]).revoked_at is None
    event = RevocationEvent.objects.get()
    assert event.actor == user and event.reason == "password_change"


def test_api_password_change_can_sign_out_every_device(api, user, signed_in, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "KEEP_DEVICE_ON_PASSWORD_CHANGE": False}
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (
        api.post("/api/password/change/", body, **bearer(signed_in["laptop"]["access"])).status_code
        == 204
    )
    assert_all_revoked(api, signed_in)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_password": "wrong", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "123"}, "new_password"),
        ({"old_password": PASSWORD}, "new_password"),
    ],
)
def test_api_password_change_validates(api, user, signed_in, body, field):
    response = api.post("/api/password/change/", body, **bearer(signed_in["laptop"]["access"]))
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert api.get("/api/me/", **bearer(signed_in["laptop"]["access"])).status_code == 200


def test_deactivating_a_user_ends_their_tokens(api, user, signed_in):
    user.is_active = False
    user.save()
    assert_all_revoked(api, signed_in, reason="user_deactivated")
    user.is_active = True
    user.save()  # reactivation signs nobody back in
    assert api.get("/api/me/", **bearer(signed_in["laptop"]["access"])).status_code == 401


def test_deleting_a_user_ends_their_tokens(api, user, signed_in):
    user.delete()
    for name in ("laptop", "phone"):
        assert api.get("/api/me/", **bearer(signed_in[name]["access"])).status_code == 401
    assert api.get("/api/me/", **bearer(signed_in["other"]["access"])).status_code == 200


def test_a_rolled_back_password_change_revokes_nothing(api, user, signed_in):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        user.set_password(NEW_PASSWORD)
        user.save()
        raise RuntimeError
    assert api.get("/api/me/", **bearer(signed_in["laptop"]["access"])).status_code == 200
