"""Sign-in and refresh are rate limited per client, with a 429 that says when to retry."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def limits(settings):
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "THROTTLE_RATES": {"sign_in": "3/min", "refresh": "2/min"},
    }


def test_sign_in_attempts_are_throttled(api, user, limits):
    for _ in range(3):
        assert (
            api.post("/api/token/", {"username": user.username, "password": "x"}).status_code == 401
        )
    response = api.post("/api/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_refresh_attempts_are_throttled(api, limits, db):
    statuses = [api.post("/api/token/refresh/", {"refresh": "x.y.z"}).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_a_limit_of_none_disables_the_throttle(api, user, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "THROTTLE_RATES": {"sign_in": None}}
    for _ in range(15):
        assert (
            api.post("/api/token/", {"username": user.username, "password": "x"}).status_code == 401
        )
