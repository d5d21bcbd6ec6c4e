"""Changes made behind the ORM's back (``QuerySet.update``, raw SQL) that no signal reports.

A deactivation is refused at once by every path that reads the user; the reconcile command
catches the rest (a bare Bearer check that never loads the user, a password changed by
``update()``), and keeps the device that changed its own password through the API.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django.test import Client

from authtokens import tokens
from authtokens.models import Device, RevocationEvent
from tests.conftest import bearer, status
from tests.factories import PASSWORD, UserFactory
from tests.test_introspection import basic

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "a brand new passphrase 42"


def deactivate_behind_the_orms_back(user):
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


def reconcile(*args):
    out = StringIO()
    call_command("authtokens_reconcile", *args, stdout=out)
    return out.getvalue()


def introspect(api, token, hint=None):
    body = {"token": token, **({"token_type_hint": hint} if hint else {})}
    response = api.post("/api/token/introspect/", body, **basic())
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def signed_in(user, sign_in):
    """A browser, a phone with a refresh token, a never-expiring app; and someone else."""
    return {
        "web": sign_in(user),
        "phone": sign_in(user, client="native", audience="Android-App"),
        "app": sign_in(user, client="native", audience="iPhone-App"),
        "other": sign_in(UserFactory()),
    }


def browser_signed_in(user):
    client = Client()
    response = client.post("/signin/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    return client


# Refused at once by every path that reads the user.


def test_a_view_that_loads_the_user_refuses_an_inactive_one(api, user, signed_in):
    deactivate_behind_the_orms_back(user)
    for name in ("web", "phone", "app"):
        response = api.get("/api/me/", **bearer(signed_in[name]["access"]))
        assert response.status_code == 401, name
        assert response.json()["code"] == "token_revoked"
        assert response["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')
    assert api.get("/api/me/", **bearer(signed_in["other"]["access"])).status_code == 200


def test_extend_refuses_an_inactive_user(api, user, signed_in):
    deactivate_behind_the_orms_back(user)
    response = api.post("/api/token/extend/", **bearer(signed_in["web"]["access"]))
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"


def test_extend_refuses_after_a_password_update_behind_the_orms_back(api, user, signed_in):
    get_user_model().objects.filter(pk=user.pk).update(password=make_password("x"))
    response = api.post("/api/token/extend/", **bearer(signed_in["web"]["access"]))
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
    # Found out: every token of the user ends, not only this one.
    assert status(api, signed_in["app"]["access"]) == 401


@pytest.mark.parametrize("path", ["/devices/", "/"])
def test_the_pages_send_an_inactive_user_to_sign_in(user, path):
    client = browser_signed_in(user)
    assert client.get(path).status_code == 200
    deactivate_behind_the_orms_back(user)
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/signin/?reason=revoked")
    assert response.cookies["__Host-authtokens"].value == ""  # the refused cookie is dropped


def test_cookie_renewal_ends_a_session_whose_password_changed_behind_the_orms_back(user):
    client = browser_signed_in(user)
    get_user_model().objects.filter(pk=user.pk).update(password=make_password("x"))
    with time_machine.travel(tokens.now() + timedelta(minutes=9)):  # renewal is due
        response = client.get("/devices/")
        assert response.status_code == 200  # this token is still good until its exp...
        assert "__Host-authtokens" not in response.cookies  # ...but is not renewed
        assert RevocationEvent.objects.get().reason == "password_change"
        response = client.get("/devices/")
        # Told why, so that they sign in with the new password, not the old one.
        assert response.status_code == 302
        assert response.url.startswith("/signin/?reason=password_changed")


def test_a_cookie_api_call_of_an_inactive_user_is_refused(user):
    client = browser_signed_in(user)
    deactivate_behind_the_orms_back(user)
    response = client.get("/api/devices/")
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"


def test_introspection_says_inactive_for_an_inactive_user(api, user, signed_in):
    for name in ("web", "app"):
        assert introspect(api, signed_in[name]["access"])["active"] is True
    assert introspect(api, signed_in["phone"]["refresh"], "refresh_token")["active"] is True
    deactivate_behind_the_orms_back(user)
    for name in ("web", "phone", "app"):
        assert introspect(api, signed_in[name]["access"]) == {"active": False}, name
    assert introspect(api, signed_in["phone"]["refresh"], "refresh_token") == {"active": False}
    assert introspect(api, signed_in["other"]["access"])["active"] is True


def test_introspection_says_inactive_after_a_password_update_behind_the_orms_back(
    api, user, signed_in
):
    get_user_model().objects.filter(pk=user.pk).update(password=make_password("x"))
    assert introspect(api, signed_in["app"]["access"]) == {"active": False}
    assert introspect(api, signed_in["web"]["access"]) == {"active": False}


# Caught by the reconcile run.


def test_reconcile_ends_an_inactive_users_tokens_even_on_the_bare_bearer_path(api, user, signed_in):
    deactivate_behind_the_orms_back(user)
    # /ping/ reads only request.user.pk: the hot path, no user row, so it cannot know yet.
    assert status(api, signed_in["app"]["access"]) == 200
    output = reconcile()
    assert "revoked 1 user(s) deactivated" in output
    for name in ("web", "phone", "app"):
        assert status(api, signed_in[name]["access"]) == 401, name
    refreshed = api.post("/api/token/refresh/", {"refresh": signed_in["phone"]["refresh"]})
    assert refreshed.status_code == 401
    assert status(api, signed_in["other"]["access"]) == 200
    event = RevocationEvent.objects.get()
    assert (event.level, event.reason, event.user_id) == ("user", "user_deactivated", user.pk)
    # Reactivating does not bring the tokens back, as with a deactivation through save().
    get_user_model().objects.filter(pk=user.pk).update(is_active=True)
    assert status(api, signed_in["app"]["access"]) == 401


def test_reconcile_ends_every_token_after_a_password_update(api, user, signed_in):
    get_user_model().objects.filter(pk=user.pk).update(password=make_password("x"))
    assert status(api, signed_in["app"]["access"]) == 200  # no signal: nothing knew
    assert "revoked 0 user(s) deactivated, 1 user(s) whose password changed" in reconcile()
    for name in ("web", "phone", "app"):
        assert status(api, signed_in[name]["access"]) == 401, name
        assert api.get("/api/me/", **bearer(signed_in[name]["access"])).status_code == 401
    refreshed = api.post("/api/token/refresh/", {"refresh": signed_in["phone"]["refresh"]})
    assert refreshed.status_code == 401
    assert status(api, signed_in["other"]["access"]) == 200
    assert RevocationEvent.objects.get().reason == "password_change"


def test_reconcile_catches_raw_sql(api, user, signed_in):
    table = get_user_model()._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET password = %s WHERE id = %s", ["!", user.pk])  # noqa: S608
    reconcile()
    assert status(api, signed_in["app"]["access"]) == 401


def test_reconcile_is_idempotent_and_dry_run_changes_nothing(api, user, signed_in):
    deactivate_behind_the_orms_back(user)
    assert "would revoke 1 user(s) deactivated" in reconcile("--dry-run")
    assert status(api, signed_in["app"]["access"]) == 200
    assert not RevocationEvent.objects.exists()
    first = reconcile("--chunk-size", "1")
    assert "revoked 1 user(s) deactivated" in first
    assert "Checked 4 device(s)" in first  # one chunk at a time
    second = reconcile()
    assert "revoked 0 user(s) deactivated, 0 user(s) whose password changed" in second
    assert RevocationEvent.objects.count() == 1


def test_reconcile_leaves_unchanged_users_alone(api, user, signed_in):
    user.first_name = "Frank"
    user.save()
    get_user_model().objects.filter(pk=user.pk).update(last_login=None, email="new@example.com")
    output = reconcile()
    assert "revoked 0 user(s) deactivated, 0 user(s) whose password changed" in output
    for name in ("web", "phone", "app", "other"):
        assert status(api, signed_in[name]["access"]) == 200, name
    assert not RevocationEvent.objects.exists()


def test_a_password_change_through_the_api_keeps_the_calling_device_after_reconcile(
    api, user, signed_in
):
    response = api.post(
        "/api/password/change/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        **bearer(signed_in["phone"]["access"]),
    )
    assert response.status_code == 200, response.content
    fresh = response.json()
    reconcile()
    assert status(api, fresh["access"]) == 200
    assert api.get("/api/me/", **bearer(fresh["access"])).status_code == 200
    refreshed = api.post("/api/token/refresh/", {"refresh": fresh["refresh"]})
    assert refreshed.status_code == 200
    assert status(api, signed_in["web"]["access"]) == 401  # every other device is signed out
    assert RevocationEvent.objects.filter(reason="password_change").count() == 1


def test_signing_out_other_devices_from_the_page_keeps_this_one_after_reconcile(user):
    client = browser_signed_in(user)
    client.get("/devices/")
    response = client.post("/devices/logout-others/")
    assert response.status_code == 302
    reconcile()
    assert client.get("/devices/").status_code == 200


def test_reconcile_records_devices_signed_in_before_the_record_existed(api, user, signed_in):
    Device.objects.update(credential_digest="")  # as migrated from before the field
    get_user_model().objects.filter(pk=user.pk).update(password=make_password("x"))
    output = reconcile()
    # Nothing to compare with: the current state is recorded, nobody is signed out.
    assert "recorded 4 device(s) without a record" in output
    assert status(api, signed_in["app"]["access"]) == 200
    get_user_model().objects.filter(pk=user.pk).update(password=make_password("y"))
    reconcile()
    assert status(api, signed_in["app"]["access"]) == 401


def test_reconcile_accepts_records_made_under_a_fallback_secret_key(api, user, signed_in, settings):
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "y" * 40, [old_key]
    output = reconcile()
    assert "revoked 0 user(s) deactivated, 0 user(s) whose password changed" in output
    assert status(api, signed_in["app"]["access"]) == 200
    settings.SECRET_KEY_FALLBACKS = []  # re-recorded under the new key: the old one may go
    assert "0 user(s) whose password changed" in reconcile()
    assert status(api, signed_in["app"]["access"]) == 200
