"""The core flow in the second project (run by tests/test_second_project.py)."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_core_flow_with_an_email_user_and_uuid_keys():
    user = get_user_model().objects.create_user("ada@example.com", "analytical engine")
    api = APIClient()
    signed_in = api.post(
        "/api/token/",
        {
            "email": "ada@example.com",
            "password": "analytical engine",
            "client": "native",
            "audience": "Desktop-App",
            "device_name": "Ada's desktop",
        },
        format="json",
    )
    assert signed_in.status_code == 200, signed_in.content
    body = signed_in.json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {body['access']}"}
    orders = api.get("/orders/", **auth).json()
    assert orders == {"customer": str(user.pk), "email": "ada@example.com"}
    assert isinstance(user.pk, uuid.UUID)
    me = api.get("/api/me/", **auth).json()
    assert me["id"] == str(user.pk) and me["username"] == "ada@example.com"
    refreshed = api.post("/api/token/refresh/", {"refresh": body["refresh"]}, format="json")
    assert refreshed.status_code == 200
    auth = {"HTTP_AUTHORIZATION": f"Bearer {refreshed.json()['access']}"}
    user.set_password("a new password")
    user.save()
    assert api.get("/orders/", **auth).status_code == 401


def test_logout_all_with_uuid_user_keys():
    get_user_model().objects.create_user("grace@example.com", "cobol rules")
    api = APIClient()
    body = api.post(
        "/api/token/", {"email": "grace@example.com", "password": "cobol rules"}, format="json"
    ).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {body['access']}"}
    assert api.post("/api/token/logout-all/", **auth).status_code == 204
    refused = api.get("/orders/", **auth)
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    assert 'error="invalid_token"' in refused["WWW-Authenticate"]


def test_sign_in_by_the_username_field_updates_last_login():
    user = get_user_model().objects.create_user("mary@example.com", "difference engine")
    api = APIClient()
    body = {"email": "mary@example.com", "password": "difference engine"}
    assert api.post("/api/token/", body, format="json").status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None


def test_username_is_no_alias_when_the_username_field_is_email():
    get_user_model().objects.create_user("hedy@example.com", "frequency hopping")
    body = {"username": "hedy@example.com", "password": "frequency hopping"}
    refused = APIClient().post("/api/token/", body, format="json")
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"email"}


def test_the_sign_in_page_takes_the_email_and_updates_last_login(client):
    user = get_user_model().objects.create_user("katherine@example.com", "orbital mechanics")
    # AuthenticationForm's field is always posted as "username", labelled after USERNAME_FIELD.
    body = {"username": "katherine@example.com", "password": "orbital mechanics"}
    response = client.post(reverse("authtokens:sign-in"), body)
    assert response.status_code == 302, response.content
    assert response.cookies["__Host-authtokens"].value
    user.refresh_from_db()
    assert user.last_login is not None
