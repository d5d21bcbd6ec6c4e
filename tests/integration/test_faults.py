"""Faults with the real servers: revoked stays revoked, and nothing answers 500 or hangs."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis

from authtokens.store.redis import RedisStore
from tests.conftest import wait_until_warm
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 20  # requests after each event, spread over both workers by the kernel


@pytest.fixture
def tokens(gunicorn, own_redis):
    """A revoked and a valid token, once the server has made its Redis mirror warm."""
    user = UserFactory()
    revoked, valid = (
        gunicorn.sign_in(user.username, PASSWORD),
        gunicorn.sign_in(user.username, PASSWORD),
    )
    status, _, _ = gunicorn.request("POST", "/api/token/logout/", revoked["access"])
    assert status == 204
    wait_until_warm(redis.Redis.from_url(own_redis["url"]), RedisStore())
    return revoked["access"], valid["access"]


def statuses(server, token, rounds=ROUNDS):
    return {server.request("GET", "/api/me/", token)[0] for _ in range(rounds)}


def test_a_revocation_through_one_worker_holds_in_every_worker(gunicorn, tokens):
    revoked, valid = tokens
    assert statuses(gunicorn, revoked) == {401}
    assert statuses(gunicorn, valid) == {200}


def test_flushall_mid_run_lets_no_revoked_token_in(gunicorn, tokens, own_redis):
    revoked, valid = tokens
    redis.Redis.from_url(own_redis["url"]).flushall()
    assert statuses(gunicorn, revoked) == {401}
    assert statuses(gunicorn, valid) == {200}


def test_redis_stopped_then_back(gunicorn, tokens, own_redis):
    revoked, valid = tokens
    own_redis["process"].kill()
    own_redis["process"].wait()
    started = time.monotonic()
    assert statuses(gunicorn, revoked) == {401}
    assert statuses(gunicorn, valid) == {200}
    assert time.monotonic() - started < 20  # bounded: timeouts and the retry interval


def test_redis_hanging_hangs_no_worker(gunicorn, tokens, own_redis):
    revoked, valid = tokens
    os.kill(own_redis["process"].pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert statuses(gunicorn, revoked, 10) == {401}
        assert statuses(gunicorn, valid, 10) == {200}
        assert time.monotonic() - started < 20
    finally:
        os.kill(own_redis["process"].pid, signal.SIGCONT)
    time.sleep(1.5)  # past the retry interval: Redis is used again
    assert statuses(gunicorn, revoked) == {401}
    assert statuses(gunicorn, valid) == {200}


def test_redis_and_database_both_down_is_a_503(gunicorn, tokens, own_redis, relay):
    revoked, valid = tokens
    own_redis["process"].kill()
    own_redis["process"].wait()
    relay.cut()
    for token in (revoked, valid):
        status, body, headers = gunicorn.request("GET", "/api/me/", token)
        assert status == 503 and body["code"] == "service_unavailable"
        assert headers["Retry-After"] == "5"
    relay.restore()
    assert statuses(gunicorn, revoked) == {401}
    assert statuses(gunicorn, valid) == {200}


def test_a_database_outage_fails_cleanly_and_recovers(gunicorn, tokens, relay):
    revoked, valid = tokens
    relay.cut()
    status, body, headers = gunicorn.request(
        "POST", "/api/token/", body={"username": "anyone", "password": "whatever"}
    )
    assert status == 503 and body["code"] == "service_unavailable" and "Retry-After" in headers
    status, body, _ = gunicorn.request("GET", "/api/me/", valid)  # the view itself needs the DB
    assert status == 503
    assert gunicorn.request("GET", "/api/me/", revoked)[0] == 401  # Redis still knows
    relay.restore()
    assert statuses(gunicorn, valid) == {200}
    assert statuses(gunicorn, revoked) == {401}
