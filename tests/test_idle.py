"""Access tokens that never expire end after ``NON_EXPIRING_IDLE_LIMIT`` without use.

RFC 9700 section 4.14.2: a credential that never expires should still end once its client
has been inactive for some time. Use is recorded cheaply: at most one conditional UPDATE of
the device per touch interval per process, never a write per request.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authtokens import tokens
from authtokens.models import Device, RevocationEvent
from tests.conftest import bearer, status

pytestmark = pytest.mark.django_db(transaction=True)
LIMIT = timedelta(days=90)  # the default


def updates_of_devices(queries):
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("UPDATE") and "authtokens_device" in q["sql"]
    ]


@pytest.fixture
def app(user, sign_in):
    return sign_in(user, client="native", audience="iPhone-App")


def test_an_idle_never_expiring_token_is_revoked_and_refused(api, app):
    assert "exp" not in tokens.decode(app["access"], token_type=tokens.ACCESS)
    with time_machine.travel(tokens.now() + LIMIT + timedelta(minutes=1)):
        response = api.get("/ping/", **bearer(app["access"]))
        assert response.status_code == 401 and response.json()["code"] == "token_revoked"
        device = Device.objects.get()
        assert device.revoked_reason == "idle" and device.revoked_at is not None
        assert RevocationEvent.objects.get().reason == "idle"
        assert status(api, app["access"]) == 401


def test_use_keeps_a_never_expiring_token_alive(api, app):
    start = tokens.now()
    with time_machine.travel(start + timedelta(days=60)):
        assert status(api, app["access"]) == 200
    from authtokens import usage

    usage.reset()  # another process, which has not seen the device yet
    with time_machine.travel(start + timedelta(days=120)):  # 60 days after its last use
        assert status(api, app["access"]) == 200
        assert api.get("/api/me/", **bearer(app["access"])).status_code == 200
    with time_machine.travel(start + timedelta(days=120) + LIMIT + timedelta(days=2)):
        assert status(api, app["access"]) == 401


def test_use_is_recorded_once_per_interval_not_per_request(api, app):
    start = tokens.now()
    with time_machine.travel(start + timedelta(days=2), tick=False):
        with CaptureQueriesContext(connection) as queries:
            for _ in range(20):
                assert status(api, app["access"]) == 200
        assert len(updates_of_devices(queries.captured_queries)) == 1
        assert Device.objects.get().last_used_at == tokens.now()
    with time_machine.travel(start + timedelta(days=2, hours=12)):  # within the interval
        with CaptureQueriesContext(connection) as queries:
            for _ in range(20):
                assert status(api, app["access"]) == 200
        assert updates_of_devices(queries.captured_queries) == []
    with time_machine.travel(start + timedelta(days=3, hours=1), tick=False):  # a day later
        with CaptureQueriesContext(connection) as queries:
            for _ in range(5):
                assert status(api, app["access"]) == 200
        assert len(updates_of_devices(queries.captured_queries)) == 1
        assert Device.objects.get().last_used_at == tokens.now()


@pytest.mark.redis  # no query at all: the Redis store's hot path
def test_expiring_tokens_record_nothing(api, user, sign_in):
    web = sign_in(user)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert status(api, web["access"]) == 200
    assert queries.captured_queries == []  # the hot path: Redis only


@pytest.mark.redis  # no query at all: the Redis store's hot path
def test_the_limit_can_be_turned_off(api, app, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "NON_EXPIRING_IDLE_LIMIT": None}
    with time_machine.travel(tokens.now() + timedelta(days=3650)):
        with CaptureQueriesContext(connection) as queries:
            assert status(api, app["access"]) == 200
        assert queries.captured_queries == []


def test_a_shorter_limit_touches_more_often(api, app, settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "NON_EXPIRING_IDLE_LIMIT": timedelta(hours=10)}
    start = tokens.now()
    with time_machine.travel(start + timedelta(hours=9)):
        assert status(api, app["access"]) == 200
    with time_machine.travel(start + timedelta(hours=18)):
        assert status(api, app["access"]) == 200
    with time_machine.travel(start + timedelta(hours=29)):
        assert status(api, app["access"]) == 401


def test_introspection_refuses_an_idle_token(api, app):
    from tests.test_deactivation import introspect

    with time_machine.travel(tokens.now() + LIMIT + timedelta(minutes=1)):
        assert introspect(api, app["access"]) == {"active": False}


def test_reconcile_revokes_idle_devices(api, user, app, sign_in):
    web = sign_in(user)
    with time_machine.travel(tokens.now() + LIMIT + timedelta(minutes=1)):
        out = StringIO()
        call_command("authtokens_reconcile", stdout=out)
        assert "revoked 1 idle device(s)" in out.getvalue()
        device = Device.objects.get(pk=app["device"]["id"])
        assert device.revoked_reason == "idle"
        assert Device.objects.get(pk=web["device"]["id"]).revoked_at is None  # web: not its rule
    assert status(api, app["access"]) == 401


@pytest.mark.parametrize("value", [timedelta(0), "90 days", 90])
def test_a_bad_limit_is_reported(settings, value):
    from authtokens.checks import check_settings

    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "NON_EXPIRING_IDLE_LIMIT": value}
    assert [error.id for error in check_settings()] == ["authtokens.E003"]
