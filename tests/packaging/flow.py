"""Drive a fresh project that installed the authtokens wheel, through Django's test client.

Run by ``check_wheel.py`` with the clean virtualenv's Python, from the project's directory:
``python flow.py full|api``. It never imports anything from the repository: what it exercises
is the installed wheel. Every request goes over HTTPS (the project redirects plain HTTP) with
``DEBUG`` off and the static files collected into a manifest.
"""

from __future__ import annotations

import os
import re
import sys

import django

django.setup()

import django.test  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

import authtokens  # noqa: E402

PASSWORD = "a long enough password 12345"


class Client(django.test.Client):
    """Every request over HTTPS: the project redirects plain HTTP (SECURE_SSL_REDIRECT)."""

    def generic(self, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


def check(condition: bool, what: str, response=None) -> None:
    if not condition:
        detail = (
            "" if response is None else f" ({response.status_code}: {response.content[:500]!r})"
        )
        sys.exit(f"flow: {what}{detail}")
    print(f"ok: {what}")


def login_of(name: str) -> str:
    user_model = get_user_model()
    return f"{name}@example.com" if user_model.USERNAME_FIELD == "email" else name


def make_user(name: str, **extra):
    return get_user_model().objects.create_user(login_of(name), password=PASSWORD, **extra)


def api_sign_in(api: Client, login: str, **body) -> dict:
    # Sign-in names the user by USERNAME_FIELD ("email" for the custom user model).
    field = get_user_model().USERNAME_FIELD
    response = api.post(
        "/api/token/", {field: login, "password": PASSWORD, **body}, "application/json"
    )
    check(response.status_code == 200, f"POST /api/token/ {body or ''}", response)
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def api_flow(suffix: str = "") -> None:
    user = make_user(f"ada{suffix}")
    login = user.get_username()
    api = Client()
    web = api_sign_in(api, login, device_name="Laptop")
    me = api.get("/api/me/", **bearer(web["access"]))
    check(me.status_code == 200 and me.json()["username"] == login, "GET /api/me/", me)
    check(me.json()["id"] == str(user.pk), f"the token names the user by pk ({user.pk!r})")
    native = api_sign_in(api, login, client="native", audience="iPhone-App")
    refreshed = api.post("/api/token/refresh/", {"refresh": native["refresh"]}, "application/json")
    check(refreshed.status_code == 200, "POST /api/token/refresh/", refreshed)
    devices = api.get("/api/devices/", **bearer(web["access"]))
    check(devices.status_code == 200 and len(devices.json()) == 2, "GET /api/devices/", devices)
    keys = api.get("/api/.well-known/jwks.json")
    check(keys.status_code == 200 and keys.json() == {"keys": []}, "GET the JWKS", keys)
    logout_all = api.post("/api/token/logout-all/", **bearer(web["access"]))
    check(logout_all.status_code == 204, "POST /api/token/logout-all/", logout_all)
    refused = api.get("/api/me/", **bearer(refreshed.json()["access"]))
    check(
        refused.status_code == 401 and refused.json()["code"] == "token_revoked",
        "a token revoked by logout-all is refused",
        refused,
    )
    missing = api.get("/api/no-such-endpoint/")
    check(
        missing.status_code == 404
        and missing.json() == {"code": "not_found", "detail": "Not found."},
        "a path under api/ that no view serves is a JSON 404",
        missing,
    )


def pages_flow() -> None:
    user = make_user("grace")
    browser = Client()
    root = browser.get("/")
    check(root.status_code == 404, "authtokens does not claim the site root", root)
    sign_in = browser.get("/account/signin/")
    page = sign_in.content.decode()
    check(sign_in.status_code == 200, "the sign-in page renders", sign_in)
    check(
        re.search(r'href="/static/authtokens/site\.[0-9a-f]{12}\.css"', page) is not None,
        "the sign-in page links the stylesheet from the static files manifest",
    )
    signed_in = browser.post(
        "/account/signin/",
        {"username": user.get_username(), "password": PASSWORD, "device_name": "Grace's laptop"},
    )
    check(signed_in.status_code == 302 and signed_in.url == "/account/", "sign in", signed_in)
    home = browser.get("/account/")
    check(home.status_code == 200 and "Grace&#x27;s laptop" in home.content.decode(), "home", home)
    devices = browser.get("/account/devices/")
    text = devices.content.decode()
    check(
        devices.status_code == 200 and "Your devices" in text, "the devices page renders", devices
    )
    check("This device" in text and "just now</time>" in text, "the devices page lists this device")
    panel = browser.get("/account/panel/authtokens/device/")
    check(
        panel.status_code == 200 and "Grace&#x27;s laptop" in panel.content.decode(),
        "the same sign-in opens the end users' panel, which lists the user's devices",
        panel,
    )


def admin_flow() -> None:
    from authtokens.models import Device

    staff = get_user_model().objects.create_superuser(login_of("root"), password=PASSWORD)
    victim = make_user("frank")
    api = Client()
    phone = api_sign_in(api, victim.get_username(), device_name="Frank's phone")
    laptop = api_sign_in(api, victim.get_username(), device_name="Frank's laptop")
    admin = Client()
    login = admin.get("/admin/login/?next=/admin/")
    check(
        login.status_code == 302 and login.url == "/account/signin/?next=%2Fadmin%2F",
        "the admin's login page sends staff to the site's sign-in page",
        login,
    )
    signed_in = admin.post(login.url, {"username": staff.get_username(), "password": PASSWORD})
    check(signed_in.url == "/admin/", "one sign-in, back to the admin", signed_in)

    devices_url = "/admin/authtokens/device/"
    listing = admin.get(devices_url)
    check(listing.status_code == 200, "the admin lists devices", listing)
    form = {"action": "revoke_devices", "_selected_action": [phone["device"]["id"]]}
    confirm = admin.post(devices_url, form)
    check(
        confirm.status_code == 200 and "Revoke these devices?" in confirm.content.decode(),
        "'Revoke selected devices' asks for confirmation",
        confirm,
    )
    done = admin.post(devices_url, {**form, "confirm": "yes"})
    check(done.status_code == 302, "'Revoke selected devices' revokes", done)
    check(Device.objects.get(pk=phone["device"]["id"]).revoked_at is not None, "device revoked")
    check(api.get("/api/me/", **bearer(phone["access"])).status_code == 401, "its token refused")
    check(api.get("/api/me/", **bearer(laptop["access"])).status_code == 200, "others unharmed")

    opts = get_user_model()._meta
    users_url = f"/admin/{opts.app_label}/{opts.model_name}/"
    change = admin.get(f"{users_url}{victim.pk}/change/")
    page = change.content.decode()
    check(
        "Frank&#x27;s laptop" in page and "Frank&#x27;s phone" not in page,
        "the user's page shows their signed-in devices inline, not the revoked one",
        change,
    )
    form = {"action": "sign_out_everywhere", "_selected_action": [str(victim.pk)]}
    confirm = admin.post(users_url, form)
    check(
        confirm.status_code == 200
        and "Sign these users out of every device?" in confirm.content.decode(),
        "'Sign selected users out everywhere' asks for confirmation",
        confirm,
    )
    done = admin.post(users_url, {**form, "confirm": "yes"})
    check(done.status_code == 302, "'Sign selected users out everywhere' signs out", done)
    check(api.get("/api/me/", **bearer(laptop["access"])).status_code == 401, "all refused")


def main() -> None:
    where = os.path.dirname(authtokens.__file__)
    check("site-packages" in where, f"authtokens comes from the installed wheel ({where})")
    mode = sys.argv[1] if len(sys.argv) > 1 else "full"
    if mode == "api":
        api_flow(suffix="-redis")
        return
    api_flow()
    pages_flow()
    admin_flow()


if __name__ == "__main__":
    main()
