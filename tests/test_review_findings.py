"""Faults found in review, each pinned: outages, lost copies, deletions, races at the edge."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from authtokens import tokens
from authtokens.models import Device, PendingMirrorWrite
from authtokens.store import get_store
from authtokens.store.redis import RedisStore
from tests.conftest import (
    bearer,
    signed_in_pair,
    status,
    unreachable_default_cache,
    wait_until_warm,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_and_refresh_work_with_the_shared_cache_down(api, user, settings):
    """Failure counts move into the process; no 500 (and the limit still holds)."""
    unreachable_default_cache(settings)
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "FAILURE_LIMITS": {"sign_in_per_ip": "3/min", "refresh_per_ip": "3/min"},
    }
    body = {"username": user.username, "password": "wrong"}
    assert api.post("/api/token/", {**body, "password": PASSWORD}).status_code == 200
    statuses = [api.post("/api/token/", body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert api.post("/api/token/refresh/", {"refresh": "x.y.z"}).status_code == 401
    page = Client().post("/signin/", body)
    assert page.status_code == 429  # the same per-process count, over the page too


@pytest.fixture
def audit_every_request(settings):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS_AUDIT_INTERVAL": timedelta(0)}


def test_a_copy_lost_in_one_process_is_noticed_by_every_other(
    api,
    user,
    sign_in,
    faulty,
    settings,
):
    """Process A revokes while Redis hangs for it; process B never saw a failure."""
    victim, valid = sign_in(user), sign_in(user)
    os.kill(faulty["process"].pid, signal.SIGSTOP)
    try:
        assert api.post("/api/token/logout/", **bearer(victim["access"])).status_code == 204
    finally:
        os.kill(faulty["process"].pid, signal.SIGCONT)
    assert PendingMirrorWrite.objects.count() == 1  # the outbox row outlived the failed copy
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS_AUDIT_INTERVAL": timedelta(0)}
    other_process = RedisStore()
    try:
        claims = tokens.decode(victim["access"], token_type=tokens.ACCESS)
        with time_machine.travel(tokens.now() + timedelta(seconds=3)):  # past the outbox grace
            other_process.audit()  # what its auditor thread runs every REDIS_AUDIT_INTERVAL
            state = other_process.get_state(claims)
        assert state.device_revoked
        wait_until_warm(faulty["client"], other_process)
        assert faulty["client"].get(other_process.key("d", victim["device"]["id"])) == b"-"
    finally:
        other_process.close()  # its guard thread, before the test's cache alias goes away
    # Retired only by the rebuild that read the database after the revocation committed.
    assert not PendingMirrorWrite.objects.exists()
    assert status(api, valid["access"]) == 200


def test_a_redis_restored_from_an_old_snapshot_is_not_trusted(
    api, user, sign_in, redis, audit_every_request
):
    """The warm marker names the Redis instance it was written on; another run_id is cold."""
    revoked, _ = signed_in_pair(api, user, sign_in)
    store = get_store()
    redis.flushdb()
    redis.set(store.warm_key, "run-id-of-the-instance-we-restored-from")
    assert status(api, revoked) == 401
    # The auditor thread (not the request) drops the marker and rebuilds on this instance.
    run_id, deadline = redis.info("server")["run_id"].encode(), time.monotonic() + 10
    while redis.get(store.warm_key) != run_id:
        assert time.monotonic() < deadline, "the auditor did not rebuild the mirror"
        time.sleep(0.05)


def test_a_deleted_device_stays_revoked_after_redis_is_flushed(api, user, sign_in, redis):
    body = sign_in(user)
    Device.objects.filter(pk=body["device"]["id"]).delete()
    assert status(api, body["access"]) == 401
    redis.flushdb()
    assert status(api, body["access"]) == 401  # cold: the database answers
    wait_until_warm(redis, get_store())
    assert status(api, body["access"]) == 401  # and the rebuilt mirror remembers


def test_a_deleted_user_stays_revoked_after_redis_is_flushed(api, user, sign_in, redis):
    body = sign_in(user)
    user.delete()
    redis.flushdb()
    assert status(api, body["access"]) == 401
    wait_until_warm(redis, get_store())
    assert status(api, body["access"]) == 401


def test_revoking_its_own_cookie_token_is_not_undone_by_renewal(user):
    from tests.test_cookies import COOKIE, csrf_token, signed_in

    client, response = signed_in(user)
    token, csrf = response.cookies[COOKIE].value, csrf_token(client)
    with time_machine.travel(tokens.now() + timedelta(minutes=9)):  # renewal is due
        revoke = client.post("/api/token/revoke/", {"token": token}, HTTP_X_CSRFTOKEN=csrf)
        assert revoke.status_code == 200
        assert COOKIE not in revoke.cookies  # no fresh token handed back
        assert client.get("/api/me/").json()["code"] == "token_revoked"


def test_a_cookie_password_change_keeps_the_browser_signed_in(user):
    from tests.test_cookies import COOKIE, csrf_token, signed_in

    client, _ = signed_in(user)
    body = {"old_password": PASSWORD, "new_password": "a brand new passphrase 42"}
    response = client.post("/api/password/change/", body, HTTP_X_CSRFTOKEN=csrf_token(client))
    assert response.status_code == 200 and COOKIE in response.cookies
    assert client.get("/api/me/").status_code == 200


def test_a_cookie_logout_through_the_api_clears_the_cookie(user):
    from tests.test_cookies import COOKIE, csrf_token, signed_in

    client, _ = signed_in(user)
    response = client.post("/api/token/logout/", HTTP_X_CSRFTOKEN=csrf_token(client))
    assert response.status_code == 204 and response.cookies[COOKIE]["max-age"] == 0


def test_a_signed_token_whose_sub_is_no_user_key_is_a_401_in_the_browser(user, sign_in):
    from tests.test_cookies import COOKIE
    from tests.test_tokens import claims, forge

    device_id = sign_in(user)["device"]["id"]
    client = Client()
    client.cookies[COOKIE] = forge(claims(sub="not-a-number", did=device_id))
    assert client.get("/api/me/").status_code == 401
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("remote_addr", ["", "unix:/run/gunicorn.sock", "999.1.1.1"])
def test_sign_in_from_an_odd_remote_addr_records_no_ip(api, user, remote_addr):
    body = {"username": user.username, "password": PASSWORD}
    response = api.post("/api/token/", body, REMOTE_ADDR=remote_addr)
    assert response.status_code == 200
    assert Device.objects.get().ip_address is None


def test_extend_refuses_a_token_revoked_after_it_was_checked(user, sign_in):
    from authtokens import services
    from authtokens.exceptions import TokenRevoked
    from authtokens.models import Reason

    body = sign_in(user)
    claims = services.authenticate(body["access"])  # checked...
    services.revoke_token(claims, reason=Reason.TOKEN)  # ...then revoked by another request
    with pytest.raises(TokenRevoked):
        services.extend(claims)
