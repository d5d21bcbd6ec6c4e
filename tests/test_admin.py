"""The staff panel through Django's test client: listing, actions, permissions, read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from authtokens.models import DeletedDevice, Device, RefreshToken, RevocationEvent
from authtokens.store import get_store
from tests.conftest import bearer, cookie_login, wait_until_warm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
DEVICES = "/admin/authtokens/device/"


def staff_client(*permissions, superuser=False):
    staff = UserFactory(is_staff=True, is_superuser=superuser)
    for codename in permissions:
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    cookie_login(client, staff)
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


CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
USERS = "/admin/auth/user/"


def assert_frank_is_gone_for_good(api, frank, redis):
    device_ids = {frank[name]["device"]["id"] for name in ("phone", "laptop")}
    assert {str(pk) for pk in DeletedDevice.objects.values_list("device_id", flat=True)} == (
        device_ids
    )
    for name in ("phone", "laptop"):
        assert api.get("/api/me/", **bearer(frank[name]["access"])).status_code == 401
    redis.flushdb()
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401  # cold
    wait_until_warm(redis, get_store())
    assert api.get("/api/me/", **bearer(frank["laptop"]["access"])).status_code == 401


def test_a_superuser_deletes_a_user_who_has_devices_from_their_page(api, frank, redis):
    client, _ = staff_client(superuser=True)
    url = f"{USERS}{frank['user'].pk}/delete/"
    confirm = client.get(url).content.decode()
    assert "permission to delete" not in confirm and "Frank&#x27;s phone" in confirm
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not type(frank["user"]).objects.filter(pk=frank["user"].pk).exists()
    assert not Device.objects.filter(user_id=frank["user"].pk).exists()
    assert_frank_is_gone_for_good(api, frank, redis)


def test_staff_with_delete_user_delete_users_with_devices_in_bulk(api, frank, redis):
    client, _ = staff_client("view_user", "delete_user")
    form = {"action": "delete_selected", "_selected_action": [frank["user"].pk]}
    confirm = client.post(USERS, form).content.decode()
    assert "permission to delete" not in confirm and "Are you sure" in confirm
    client.post(USERS, {**form, "post": "yes"})
    assert not type(frank["user"]).objects.filter(pk=frank["user"].pk).exists()
    assert_frank_is_gone_for_good(api, frank, redis)


def test_staff_without_delete_user_still_cannot_delete_users(frank):
    client, _ = staff_client("view_user", "view_device")
    assert client.post(f"{USERS}{frank['user'].pk}/delete/", {"post": "yes"}).status_code == 403
    assert Device.objects.filter(user=frank["user"]).count() == 2


def test_devices_have_no_delete_action_or_button_even_for_superusers(frank):
    client, _ = staff_client(superuser=True)
    assert b"delete_selected" not in client.get(DEVICES).content
    device = Device.objects.get(name="Frank's phone")
    assert b"deletelink" not in client.get(f"{DEVICES}{device.pk}/change/").content
    form = {"action": "delete_selected", "_selected_action": [str(device.pk)], "post": "yes"}
    client.post(DEVICES, form)
    token = RefreshToken.objects.filter(device=device).get()
    assert client.post(f"/admin/authtokens/refreshtoken/{token.pk}/delete/").status_code == 403
    assert b"delete_selected" not in client.get("/admin/authtokens/refreshtoken/").content
    assert Device.objects.filter(user=frank["user"]).count() == 2


def test_the_device_list_shows_browser_os_and_ip(api, sign_in):
    zoe = UserFactory(username="zoe")
    api.post(
        "/api/token/",
        {"username": "zoe", "password": "correct horse battery staple", "device_name": "Zoe"},
        format="json",
    )
    sign_in(zoe, device_name="Zoe's laptop")
    Device.objects.update(user_agent=CHROME, ip_address="203.0.113.9")
    client, _ = staff_client(superuser=True)
    page = client.get(DEVICES).content.decode()
    assert "Browser and OS" in page and "Chrome 126 on Linux" in page
    assert "IP address" in page and "203.0.113.9" in page


def test_a_device_page_has_a_revoke_button_that_confirms_then_revokes(api, frank):
    client, staff = staff_client("view_device", "revoke_device")
    device = Device.objects.get(name="Frank's phone")
    change = f"{DEVICES}{device.pk}/change/"
    revoke = f"{DEVICES}{device.pk}/revoke/"
    assert revoke in client.get(change).content.decode()
    confirm = client.get(revoke)
    assert b"Revoke this device?" in confirm.content and b"Frank&#x27;s phone" in confirm.content
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 200
    strict = Client(enforce_csrf_checks=True)
    cookie_login(strict, staff)
    assert strict.post(revoke, {"confirm": "yes"}).status_code == 403  # no CSRF token
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 200
    done = client.post(revoke, {"confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == change
    page = client.get(change).content.decode()
    assert "Revoked the device “Frank&#x27;s phone” of frank." in page
    assert revoke not in page  # nothing left to revoke
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401
    assert api.get("/api/me/", **bearer(frank["laptop"]["access"])).status_code == 200
    assert RevocationEvent.objects.get(level="device").actor == staff


def test_the_revoke_button_needs_the_revoke_permission(api, frank):
    client, _ = staff_client("view_device")
    device = Device.objects.get(name="Frank's phone")
    assert b"/revoke/" not in client.get(f"{DEVICES}{device.pk}/change/").content
    assert client.get(f"{DEVICES}{device.pk}/revoke/").status_code == 403
    assert client.post(f"{DEVICES}{device.pk}/revoke/", {"confirm": "yes"}).status_code == 403
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 200


def test_the_revoke_button_only_goes_back_to_this_site(frank):
    client, _ = staff_client(superuser=True)
    device = Device.objects.get(name="Frank's phone")
    form = {"confirm": "yes", "next": "https://evil.example/"}
    done = client.post(f"{DEVICES}{device.pk}/revoke/", form)
    assert done["Location"] == f"{DEVICES}{device.pk}/change/"


def test_the_user_page_lists_live_devices_with_status_and_revoke_links(api, frank):
    Device.objects.filter(name="Frank's laptop").update(revoked_at="2026-01-01T00:00Z")
    client, _ = staff_client("view_user", "view_device", "revoke_device")
    user_page = f"{USERS}{frank['user'].pk}/change/"
    page = client.get(user_page).content.decode()
    assert "Frank&#x27;s phone" in page and "Frank&#x27;s laptop" not in page
    assert "Signed-in devices" in page and "Active" in page
    assert "IP address" in page and "127.0.0.1" in page and "Browser and OS" in page
    phone = Device.objects.get(name="Frank's phone")
    back = f"%2Fadmin%2Fauth%2Fuser%2F{frank['user'].pk}%2Fchange%2F"
    link = f"{DEVICES}{phone.pk}/revoke/?next={back}"
    assert link.replace("&", "&amp;") in page
    done = client.post(link, {"confirm": "yes"})
    assert done["Location"] == user_page
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401
    assert "Frank&#x27;s phone" not in client.get(user_page).content.decode().split("</h2>", 2)[-1]


def test_the_user_page_has_no_revoke_links_without_the_permission(frank):
    client, _ = staff_client("view_user", "view_device")
    page = client.get(f"{USERS}{frank['user'].pk}/change/").content.decode()
    assert "Frank&#x27;s phone" in page and "/revoke/" not in page


def test_the_confirmation_names_devices_already_revoked_and_leaves_them(api, frank):
    client, _ = staff_client(superuser=True)
    laptop = Device.objects.get(name="Frank's laptop")
    client.post(f"{DEVICES}{laptop.pk}/revoke/", {"confirm": "yes"})
    every = [str(device.pk) for device in Device.objects.filter(user=frank["user"])]
    form = {"action": "revoke_devices", "_selected_action": every}
    confirm = client.post(DEVICES, form).content.decode()
    assert "Already revoked" in confirm
    already = confirm.split("Already revoked", 1)[1]
    assert "Frank&#x27;s laptop" in already and "Frank&#x27;s phone" not in already
    done = client.post(DEVICES, {**form, "confirm": "yes"}, follow=True)
    assert "Revoked 1 device." in done.content.decode()
    assert RevocationEvent.objects.filter(device=laptop).count() == 1
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401


def test_selecting_only_revoked_devices_says_so(frank):
    client, _ = staff_client(superuser=True)
    Device.objects.filter(user=frank["user"]).update(revoked_at="2026-01-01T00:00Z")
    every = [str(device.pk) for device in Device.objects.filter(user=frank["user"])]
    form = {"action": "revoke_devices", "_selected_action": every}
    done = client.post(DEVICES, form, follow=True).content.decode()
    assert "The selected devices were all already revoked." in done


def test_the_change_password_form_says_every_device_was_signed_out(api, frank):
    client, _ = staff_client(superuser=True)
    url = f"{USERS}{frank['user'].pk}/password/"
    new = "another horse battery staple 42"
    form = {"password1": new, "password2": new, "usable_password": "true"}
    done = client.post(url, form, follow=True).content.decode()
    assert "Password changed successfully." in done
    assert "Signed frank out of every device" in done
    assert api.get("/api/me/", **bearer(frank["phone"]["access"])).status_code == 401
    mismatch = {"password1": new, "password2": "something else", "usable_password": "true"}
    assert "out of every device" not in client.post(url, mismatch).content.decode()


def test_the_demo_admin_carries_the_project_name():
    client, _ = staff_client()
    page = client.get("/admin/").content.decode()
    assert "authtokens administration" in page and "Django administration" not in page
    assert "<title>Site administration | authtokens admin</title>" in page
