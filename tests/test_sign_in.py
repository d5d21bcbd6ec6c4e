"""Sign-in as Django's own login does it: ``last_login`` and ``user_logged_in``, API and page.

The email-as-username side (``USERNAME_FIELD``) runs in the second project:
``tests/custom_user/check_flow.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest

from authtokens.serializers import TokenRequestSerializer
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def logged_in() -> Any:
    """Every ``user_logged_in`` sent during the test: (sender, user, request)."""
    sent: list[tuple[Any, Any, Any]] = []

    def receiver(sender: Any, user: Any, request: Any, **kwargs: Any) -> None:
        sent.append((sender, user, request))

    user_logged_in.connect(receiver, dispatch_uid="tests.test_sign_in")
    yield sent
    user_logged_in.disconnect(dispatch_uid="tests.test_sign_in")


def test_an_api_sign_in_updates_last_login_and_sends_user_logged_in(api, user, logged_in):
    assert user.last_login is None
    response = api.post("/api/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None
    ((sender, signed_in, request),) = logged_in
    assert sender is type(user) and signed_in.pk == user.pk
    assert isinstance(request, HttpRequest)  # Django's request, as login() sends it


def test_a_page_sign_in_updates_last_login_and_sends_user_logged_in(client, user, logged_in):
    response = client.post("/signin/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.last_login is not None
    ((_, signed_in, request),) = logged_in
    assert signed_in.pk == user.pk and isinstance(request, HttpRequest)


def test_a_failed_sign_in_sends_no_user_logged_in(api, user, logged_in):
    response = api.post("/api/token/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 401
    user.refresh_from_db()
    assert user.last_login is None and logged_in == []


def test_a_refresh_is_no_sign_in(api, user, sign_in, logged_in):
    body = sign_in(user, client="native", audience="Android-App")
    first = user.__class__.objects.get(pk=user.pk).last_login
    logged_in.clear()
    assert api.post("/api/token/refresh/", {"refresh": body["refresh"]}).status_code == 200
    assert logged_in == []
    assert user.__class__.objects.get(pk=user.pk).last_login == first


def test_the_sign_in_field_is_named_after_username_field():
    assert list(TokenRequestSerializer().fields)[:2] == ["username", "password"]
