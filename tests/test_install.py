"""What a project installing authtokens relies on: the app's own templates (and a base the project
can replace), the API and the pages mountable under any prefix, JSON error pages under the API.

Run against ``tests/mounted_urls.py`` (API under ``/auth/``, pages under ``/account/``) as well
as the demo's layout; the wheel, installed into fresh projects, is checked by
``tests/packaging/``.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import bearer
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
MOUNTED = pytest.mark.urls("tests.mounted_urls")
APP_TEMPLATES_ONLY = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]


def sign_in_page(client, user, path="/signin/"):
    response = client.post(path, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return response


@override_settings(
    TEMPLATES=APP_TEMPLATES_ONLY,
    INSTALLED_APPS=[app for app in settings.INSTALLED_APPS if app != "django.contrib.humanize"],
)
def test_the_pages_render_from_the_app_alone_without_humanize(user):
    client = Client()
    assert client.get("/signin/").status_code == 200
    sign_in_page(client, user)
    home = client.get("/")
    assert home.status_code == 200 and user.username in home.content.decode()
    devices = client.get("/devices/")
    assert devices.status_code == 200
    page = devices.content.decode()
    assert "Your devices" in page and "This device" in page and "just now</time>" in page


def test_a_project_replaces_the_base_template(user, tmp_path):
    (tmp_path / "authtokens").mkdir()
    (tmp_path / "authtokens" / "base.html").write_text(
        "<title>{% block title %}{% endblock %}</title><h1>Our site</h1>"
        "{% block content %}{% endblock %}"
    )
    templates = [{**APP_TEMPLATES_ONLY[0], "DIRS": [tmp_path]}]
    with override_settings(TEMPLATES=templates):
        page = Client().get("/signin/").content.decode()
    assert "<h1>Our site</h1>" in page and "Sign in" in page
    assert "authtokens/site.css" not in page  # the app's frame is gone, its form is not


@MOUNTED
def test_the_api_mounts_under_any_prefix(api, user):
    assert reverse("authtokens_api:issue") == "/auth/token/"
    body = {"username": user.username, "password": PASSWORD}
    signed_in = api.post("/auth/token/", body, format="json")
    assert signed_in.status_code == 200, signed_in.content
    me = api.get("/auth/me/", **bearer(signed_in.json()["access"]))
    assert me.status_code == 200 and me.json()["username"] == user.username
    assert api.get("/auth/.well-known/jwks.json").json() == {"keys": []}
    assert api.post("/api/token/", body, format="json").status_code == 404


@MOUNTED
def test_nothing_claims_the_site_root(db):
    response = Client().get("/")
    assert response.status_code == 404 and "text/html" in response["Content-Type"]


@MOUNTED
def test_the_pages_mount_under_any_prefix_and_link_within_it(user):
    client = Client()
    anonymous = client.get("/account/devices/")
    assert anonymous.url == "/account/signin/?reason=required&next=%2Faccount%2Fdevices%2F"
    assert sign_in_page(client, user, "/account/signin/").url == "/account/"
    page = client.get("/account/devices/").content.decode()
    assert 'href="/account/devices/"' in page and 'action="/account/signout/"' in page
    assert 'action="/account/devices/' in page  # "Sign out" of this device
    signed_out = client.post("/account/signout/")
    assert signed_out.url == "/account/signin/?reason=signed_out"


def test_the_compatibility_include_keeps_the_0_1_layout():
    assert reverse("authtokens:issue") == "/api/token/"
    assert reverse("authtokens:jwks") == "/.well-known/jwks.json"
    assert reverse("authtokens:home") == "/" and reverse("authtokens:sign-in") == "/signin/"


@MOUNTED
def test_a_path_no_view_matches_is_json_under_the_api_prefix_and_html_elsewhere(api):
    under_api = api.get("/auth/nothing-here/")
    assert under_api.status_code == 404
    assert under_api.json() == {"code": "not_found", "detail": "Not found."}
    elsewhere = Client().get("/account/nothing-here/")
    assert elsewhere.status_code == 404 and "text/html" in elsewhere["Content-Type"]


@MOUNTED
def test_an_unhandled_error_is_json_under_the_api_prefix_and_html_elsewhere(db):
    client = Client(raise_request_exception=False)
    under_api = client.get("/auth/broken/")
    assert under_api.status_code == 500
    assert under_api.json() == {
        "code": "server_error",
        "detail": "Something went wrong on our side.",
    }
    elsewhere = client.get("/broken/")
    assert elsewhere.status_code == 500 and "text/html" in elsewhere["Content-Type"]


def test_the_demo_layout_answers_json_errors_under_api(db):
    client = Client(raise_request_exception=False)
    response = client.get("/api/nothing-here/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert "text/html" in client.get("/nothing-here/").headers["Content-Type"]


def test_the_01_paths_of_the_cookie_class_and_the_middleware_still_import():
    """Settings written for 0.1 name them where they lived then; they moved to their DRF homes
    (authentication.py, middleware.py), and the old dotted paths stay valid."""
    from django.utils.module_loading import import_string

    from authtokens.authentication import CookieAuthentication
    from authtokens.middleware import ActingUserMiddleware, TokenCookieMiddleware

    assert import_string("authtokens.cookies.CookieAuthentication") is CookieAuthentication
    assert import_string("authtokens.cookies.TokenCookieMiddleware") is TokenCookieMiddleware
    assert import_string("authtokens.context.ActingUserMiddleware") is ActingUserMiddleware
