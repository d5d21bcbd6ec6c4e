"""The verdict cache (REDIS_VERDICT_CACHE): a check answered before costs no command, and a
cached verdict is never served past REDIS_VERDICT_CACHE_BOUND after what it relied on changed,
through a revocation elsewhere, a flush, a hung Redis or a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest

from authtokens import services, tokens
from authtokens.models import Device, Reason
from authtokens.store import get_store
from authtokens.store.redis import RedisStore
from tests.test_read_path import commands_of_this_thread  # noqa: F401  a fixture

pytestmark = pytest.mark.django_db(transaction=True)
BOUND = timedelta(milliseconds=250)


@pytest.fixture
def cached(faulty, settings):
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "REDIS_VERDICT_CACHE": True,
        "REDIS_VERDICT_CACHE_BOUND": BOUND,
    }
    return faulty


def claims_of(user):
    return tokens.decode(services.issue(user).access, token_type=tokens.ACCESS)


def answered_from_cache(store, claims, seconds=5):
    """Check until the verdict comes from the cache (the heartbeat has proved it current)."""
    deadline = time.monotonic() + seconds
    while store.verdicts.get(cache_entry(store, claims)) is None:
        assert time.monotonic() < deadline, "the verdict was never cached"
        store.get_state(claims)
        time.sleep(0.02)


def cache_entry(store, claims):
    hour = claims["exp"] // 3600
    keys = (
        store.key("d", claims["did"]),
        store.key("u", claims["sub"]),
        store.warm_key,
        store.key("t", f"{hour}:{claims['jti'][:2]}"),
    )
    return keys, claims["jti"]


def refused_within_the_bound(store, claims):
    """The store refuses ``claims`` no later than the bound (plus a scheduling margin)."""
    started = time.monotonic()
    while not store.get_state(claims).device_revoked:
        assert time.monotonic() - started < BOUND.total_seconds() + 0.5, "past the bound"
        time.sleep(0.01)


def test_a_check_answered_before_sends_no_command(user, cached, commands_of_this_thread):  # noqa: F811
    store, claims = get_store(), claims_of(user)
    answered_from_cache(store, claims)
    commands_of_this_thread.clear()
    for _ in range(5):
        assert not store.get_state(claims).device_revoked
    assert commands_of_this_thread == []


def test_a_revocation_in_another_process_reaches_the_cache_within_the_bound(user, cached):
    other_process = RedisStore(cache_alias="revocations")
    try:
        claims = claims_of(user)
        answered_from_cache(other_process, claims)
        services.revoke_device(claims["did"], reason=Reason.ADMIN)  # through get_store()
        refused_within_the_bound(other_process, claims)
    finally:
        other_process.close()


def test_a_flush_drops_every_cached_verdict(user, cached):
    store, claims = get_store(), claims_of(user)
    answered_from_cache(store, claims)
    cached["client"].flushall()
    # Revoked in the database only: a cold mirror sends the check there.
    Device.objects.filter(pk=claims["did"]).update(revoked_at=tokens.now())
    refused_within_the_bound(store, claims)


def test_a_hung_redis_stops_cached_verdicts_within_the_bound(user, cached):
    store, claims = get_store(), claims_of(user)
    answered_from_cache(store, claims)
    Device.objects.filter(pk=claims["did"]).update(revoked_at=tokens.now())
    os.kill(cached["process"].pid, signal.SIGSTOP)
    try:
        time.sleep(BOUND.total_seconds())
        assert store.get_state(claims).device_revoked  # Redis unanswered: the database says
    finally:
        os.kill(cached["process"].pid, signal.SIGCONT)


def test_a_restart_drops_every_cached_verdict(user, cached):
    store, claims = get_store(), claims_of(user)
    answered_from_cache(store, claims)
    Device.objects.filter(pk=claims["did"]).update(revoked_at=tokens.now())
    cached["process"].kill()
    cached["process"].wait()
    port = cached["url"].rsplit(":", 1)[1].split("/")[0]
    cached["process"] = subprocess.Popen(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(cached["dir"])],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(BOUND.total_seconds())
    assert store.get_state(claims).device_revoked
