"""The staff panel through Django's test client: listing, actions, permissions, read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from authtokens.models import Device, RefreshToken, RevocationEvent
from tests.conftest import bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
DEVICES = "/admin/authtokens/device/"


def staff_client(*permissions, superuser=False):
    staff = UserFactory(is_staff=True, is_superuser=superuser)
    for codename in permissions:
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(staff)
    return client, staff


@pytest.fixture
def frank(sign_in):
    frank = UserFactory(username="frank", email="frank@example.com")
    return {
        "user": frank,
        "phone": sign_in(
            frank, client="native", audience="Android-App", device_name="Frank's phone"
        ),
        "laptop": sign_in(frank, device_name="Frank's laptop"),
    }


def test_devices_are_listed_searchable_and_filterable(frank, sign_in):
    sign_in(UserFactory(username="zoe"), device_name="Zoe's tablet")
    client, _ = staff_client(superuser=True)
    page = client.get(DEVICES, {"q": "frank"}).content.decode()
    assert "Frank&#x27;s phone" in page and "Zoe" not in page
    Device.objects.filter(name="Frank's laptop").update(revoked_at="2026-01-01T00:00Z")
    revoked = client.get(DEVICES, {"status": "revoked"}).content.decode()
    assert "Frank&#x27;s laptop" in revoked and "Frank&#x27;s phone" not in revoked
    native = client.get(DEVICES, {"kind__exact": "native"}).content.decode()
    assert "Frank&#x27;s phone" in native and "Zoe" not in native


def test_revoke_action_asks_then_revokes_and_reports(api, frank):
    client, staff = staff_client(superuser=True)
    ids = [frank["phone"]["device"]["id"], frank["laptop"]["device"]["id"]]
    form = {"action": "revoke_devices", "_selected_action": ids}
    confirm = client.post(DEVICES, form)
    assert confirm.status_code == 200 and b"Revoke these devices?" in confirm.content
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 200
    done = client.post(DEVICES, {**form, "confirm": "yes"}, follow=True)
    assert "Revoked 2 devices." in done.content.decode()
    for name in ("phone", "laptop"):
        assert api.get("/api/me/", **bearer(frank[name]["access"])).status_code == 401
    events = RevocationEvent.objects.filter(level="device", reason="admin")
    assert events.count() == 2 and {e.actor for e in events} == {staff}


def test_a_support_role_can_revoke_without_being_superuser(api, frank):
    client, _ = staff_client("view_device", "revoke_device")
    assert b"revoke_devices" in client.get(DEVICES).content
    form = {"action": "revoke_devices", "_selected_action": [frank["phone"]["device"]["id"]]}
    client.post(DEVICES, {**form, "confirm": "yes"})
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401


def test_staff_without_the_permission_cannot_revoke(api, frank):
    client, _ = staff_client("view_device")
    assert b"revoke_devices" not in client.get(DEVICES).content
    form = {"action": "revoke_devices", "_selected_action": [frank["phone"]["device"]["id"]]}
    client.post(DEVICES, {**form, "confirm": "yes"})
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 200


def test_sign_out_everywhere_action_on_users(api, frank):
    client, staff = staff_client("view_user", "sign_out_user")
    form = {"action": "sign_out_everywhere", "_selected_action": [frank["user"].pk]}
    assert b"Sign these users out" in client.post("/admin/auth/user/", form).content
    done = client.post("/admin/auth/user/", {**form, "confirm": "yes"}, follow=True)
    assert "Signed 1 user out everywhere." in done.content.decode()
    assert api.get("/api/me/", **bearer(frank["laptop"]["access"])).status_code == 401
    assert RevocationEvent.objects.get(level="user").actor == staff


def test_user_page_shows_devices_inline(frank):
    client, _ = staff_client(superuser=True)
    page = client.get(f"/admin/auth/user/{frank['user'].pk}/change/").content.decode()
    assert "Frank&#x27;s phone" in page and "Frank&#x27;s laptop" in page


def test_nothing_is_editable_and_no_token_material_is_shown(frank):
    client, _ = staff_client(superuser=True)
    device = Device.objects.get(name="Frank's phone")
    assert client.get(f"{DEVICES}add/").status_code == 403
    url = f"{DEVICES}{device.pk}/change/"
    assert client.post(url, {"name": "renamed", "revoked_at": ""}).status_code == 403
    assert client.post(f"{DEVICES}{device.pk}/delete/", {"post": "yes"}).status_code == 403
    token = RefreshToken.objects.get()
    page = client.get(f"/admin/authtokens/refreshtoken/{token.pk}/change/").content.decode()
    assert token.digest not in page and token.password_digest not in page
    assert frank["phone"]["refresh"] not in page


def test_audit_trail_is_filterable_and_read_only(api, frank):
    api.post("/api/token/logout/", **bearer(frank["laptop"]["access"]))
    client, _ = staff_client(superuser=True)
    page = client.get("/admin/authtokens/revocationevent/", {"reason__exact": "logout"})
    assert b"Signed out" in page.content
    event = RevocationEvent.objects.get()
    assert (
        client.post(
            f"/admin/authtokens/revocationevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
