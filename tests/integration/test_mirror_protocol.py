"""The mirror protocol at its seams, against gunicorn (2 workers) and a real redis-server.

Invariant under test: a process trusts Redis only while every revocation committed before its
read is either in Redis or has made the warm marker absent. Each test breaks Redis the way an
operator saw it break (a hang, a partition during a rebuild, a blip) and replays every revoked
token: none may be accepted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import redis
from django.db import connection

from authtokens.models import PendingMirrorWrite, RevokedAccessToken
from authtokens.store.redis import RedisStore
from tests.factories import PASSWORD, UserFactory
from tests.integration.conftest import ROOT, start_gunicorn, stop

pytestmark = pytest.mark.django_db(transaction=True)
STORE = RedisStore()  # key names only


def warm_up(server, token, client, seconds=60):
    """Authenticated requests find the mirror cold and start its rebuild (once the worker's
    retry window after an outage has passed); wait until it is warm. How long copying takes
    depends on the machine, not on any promise: the bound only stops a test that would hang."""
    deadline = time.monotonic() + seconds
    while client.get(STORE.warm_key) is None:
        assert time.monotonic() < deadline, "the mirror was not rebuilt"
        server.request("GET", "/api/me/", token)
        time.sleep(0.1)


def accepted(server, tokens, rounds=3):
    """How many replays of ``tokens`` were answered 200 (spread over both workers)."""
    return sum(
        server.request("GET", "/api/me/", token)[0] == 200
        for _ in range(rounds)
        for token in tokens
    )


def test_a_logout_during_a_redis_hang_is_refused_by_every_worker_once_it_returns(
    gunicorn, own_redis
):
    """SIGSTOP; log out through one worker; SIGCONT: the other worker, which never saw Redis
    fail, must not read the mirror before the revoker's marker drop lands."""
    user = UserFactory()
    victim, other = (gunicorn.sign_in(user.username, PASSWORD) for _ in range(2))
    client = redis.Redis.from_url(own_redis["url"])
    warm_up(gunicorn, other["access"], client)
    assert accepted(gunicorn, [victim["access"]], rounds=10) == 10  # both workers trust Redis
    pid = own_redis["process"].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        assert gunicorn.request("POST", "/api/token/logout/", victim["access"])[0] == 204
    finally:
        os.kill(pid, signal.SIGCONT)
    assert accepted(gunicorn, [victim["access"]], rounds=60) == 0
    warm_up(gunicorn, other["access"], client)
    assert accepted(gunicorn, [victim["access"]], rounds=10) == 0


def test_revocations_while_redis_hangs_do_not_each_wait_a_timeout(gunicorn, own_redis):
    """Known down means not asked: after the first failure, a revocation costs no timeout."""
    user = UserFactory()
    victims = [gunicorn.sign_in(user.username, PASSWORD) for _ in range(8)]
    warm_up(gunicorn, victims[0]["access"], redis.Redis.from_url(own_redis["url"]))
    pid = own_redis["process"].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        gunicorn.request("GET", "/api/me/", victims[0]["access"])  # each worker notices
        gunicorn.request("GET", "/api/me/", victims[0]["access"])
        started = time.monotonic()
        for victim in victims[1:]:
            assert gunicorn.request("POST", "/api/token/logout/", victim["access"])[0] == 204
        elapsed = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    print(f"7 revocations while Redis hangs: {elapsed:.2f} s")  # pytest -s shows it
    # server_settings: a socket timeout of 0.3 s. One per revocation would be 2.1 s or more;
    # at most the retry probe of each worker (REDIS_RETRY_INTERVAL, 1 s) may pay one.
    assert elapsed < 7 * 0.3
    assert accepted(gunicorn, [v["access"] for v in victims[1:]]) == 0


def bulk_revocations(user, count):
    """Insert ``count`` revoked-token rows in one statement, so that a rebuild takes seconds."""
    table = RevokedAccessToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (jti, user_id, expires_at, revoked_at, reason) "  # noqa: S608
            "SELECT 'bulk-' || n, %s, now() + interval '1 day', now(), 'token' "
            "FROM generate_series(1, %s) AS n",
            [user.pk, count],
        )


def test_revocations_during_a_rebuild_elsewhere_are_not_lost(
    gunicorn_behind_redis_relay, redis_relay, own_redis
):
    """Another host rebuilds the mirror (slowly); meanwhile the workers lose Redis and revoke.
    The rebuild read the database before those revocations: it must not retire their outbox
    rows, and its warm marker must not be trusted over them."""
    server = gunicorn_behind_redis_relay
    user = UserFactory()
    victims = [server.sign_in(user.username, PASSWORD) for _ in range(12)]
    client = redis.Redis.from_url(own_redis["url"])
    warm_up(server, victims[0]["access"], client)
    bulk_revocations(user, 600_000)
    client.delete(STORE.warm_key)
    rebuild = subprocess.Popen(
        [sys.executable, "manage.py", "authtokens_rebuild"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.integration.server_settings",
            "AT_DB_NAME": connection.settings_dict["NAME"],
            "AT_DB_PORT": str(connection.settings_dict["PORT"] or 5432),
            "AT_REDIS_URL": own_redis["url"],  # the other host reaches Redis directly
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    tokens = [v["access"] for v in victims]
    try:
        deadline = time.monotonic() + 30
        while not client.exists(STORE.key("rebuild")):
            assert time.monotonic() < deadline and rebuild.poll() is None, "no rebuild started"
            time.sleep(0.02)
        redis_relay.cut()
        for token in tokens:
            status, _, _ = server.request("POST", "/api/token/revoke/", token, {"token": token})
            assert status == 200
        assert accepted(server, tokens) == 0  # workers without Redis: the database answers
        time.sleep(2.5)  # the outbox rows are now older than any commit can explain
        assert rebuild.poll() is None, rebuild.communicate()[0].decode()  # finished too early
        redis_relay.restore()  # the workers see Redis again, cold, while the rebuild runs
        assert accepted(server, tokens) == 0
        # The rebuild read the database before those revocations: it must not mark the
        # mirror warm over them (here its lock is taken away, and it gives up).
        rebuild.communicate(timeout=120)
    finally:
        if rebuild.poll() is None:
            rebuild.kill()
    assert accepted(server, tokens, rounds=10) == 0
    warm_up(server, tokens[0], client, seconds=60)
    assert accepted(server, tokens, rounds=5) == 0
    deadline = time.monotonic() + 30
    while PendingMirrorWrite.objects.exists():  # retired once a later rebuild covered them
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_a_blip_during_a_rebuild_does_not_leave_the_lock_behind(
    gunicorn_behind_redis_relay, redis_relay, own_redis
):
    """The rebuild fails on a 0.3 s cut; its lock must go as soon as Redis is back, so the
    mirror is rebuilt and used again within seconds, not after the lock's TTL."""
    server = gunicorn_behind_redis_relay
    user = UserFactory()
    victim = server.sign_in(user.username, PASSWORD)
    client = redis.Redis.from_url(own_redis["url"])
    warm_up(server, victim["access"], client)
    bulk_revocations(user, 200_000)
    client.delete(STORE.warm_key)
    server.request("GET", "/api/me/", victim["access"])  # a worker starts rebuilding
    deadline = time.monotonic() + 10
    while not client.exists(STORE.key("rebuild")):
        assert time.monotonic() < deadline, "no rebuild started"
        time.sleep(0.01)
    redis_relay.cut()
    time.sleep(0.3)
    redis_relay.restore()
    # Left behind, the failed rebuild's lock would sit unchanged until its TTL ran out (no
    # rebuild extends it); released, it goes at once, or a live rebuild keeps extending it.
    # Judged on the lock itself, not on how long copying 200,000 rows takes on this machine.
    lock = STORE.key("rebuild")
    failed_rebuilds_lock = client.get(lock)
    started = time.monotonic()
    while client.get(STORE.warm_key) is None:
        server.request("GET", "/api/me/", victim["access"])
        if failed_rebuilds_lock is not None and client.get(lock) == failed_rebuilds_lock:
            assert client.pttl(lock) > 5_000, "a lock was left behind: nobody extends it"
        assert time.monotonic() - started < 90, "the mirror stayed cold"
        time.sleep(0.2)


def test_cookie_renewal_during_a_database_outage_is_a_503_not_a_500(
    own_redis, relay, transactional_db
):
    process, server = start_gunicorn(own_redis["url"], relay.port, AT_WEB_ACCESS_SECONDS="4")
    try:
        user = UserFactory()
        body = server.sign_in(user.username, PASSWORD)
        warm_up(server, body["access"], redis.Redis.from_url(own_redis["url"]))
        time.sleep(2.5)  # past COOKIE_RENEW_AT (half) of a 4 s token
        relay.cut()
        request = urllib.request.Request(
            server.url + "/api/me/", headers={"Cookie": f"__Host-authtokens={body['access']}"}
        )
        try:
            status = urllib.request.urlopen(request, timeout=10).status  # noqa: S310  loopback
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 503
    finally:
        stop(process)


def test_a_rebuilt_mirror_keeps_revocations_inside_the_leeway(own_redis, transactional_db):
    """Decode accepts until exp + LEEWAY (10 s): a rebuild in that window must still hold the
    revocation."""
    process, server = start_gunicorn(
        own_redis["url"], int(connection.settings_dict["PORT"] or 5432), AT_WEB_ACCESS_SECONDS="2"
    )
    try:
        user = UserFactory()
        victim = server.sign_in(user.username, PASSWORD)
        warm_up(server, victim["access"], redis.Redis.from_url(own_redis["url"]))
        assert server.request("POST", "/api/token/logout/", victim["access"])[0] == 204
        time.sleep(3.5)  # past exp by 1.5 s, well inside the leeway
        redis.Redis.from_url(own_redis["url"]).flushall()
        warm_up(server, victim["access"], redis.Redis.from_url(own_redis["url"]))
        assert accepted(server, [victim["access"]], rounds=10) == 0
    finally:
        stop(process)


def test_a_redis_restarted_from_a_snapshot_is_not_trusted(gunicorn, own_redis):
    """A snapshot taken while the mirror was warm, then a revocation, then a crash and a
    restart from that snapshot: Redis comes back warm and without the revocation. Every read
    checks that Redis still knows the script that marked it warm; a restart forgets it."""
    user = UserFactory()
    victim, other = (gunicorn.sign_in(user.username, PASSWORD) for _ in range(2))
    client = redis.Redis.from_url(own_redis["url"])
    warm_up(gunicorn, other["access"], client)
    client.save()  # into own_redis["dir"]
    assert gunicorn.request("POST", "/api/token/logout/", victim["access"])[0] == 204
    assert accepted(gunicorn, [victim["access"]]) == 0
    own_redis["process"].kill()
    own_redis["process"].wait()
    port = own_redis["url"].rsplit(":", 1)[1].split("/")[0]
    own_redis["process"] = subprocess.Popen(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", str(own_redis["dir"])]
        + ["--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            assert client.get(STORE.warm_key) is not None  # the snapshot's marker is back
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not restart"
            time.sleep(0.05)
    assert accepted(gunicorn, [victim["access"]], rounds=40) == 0
    warm_up(gunicorn, other["access"], client)
    assert accepted(gunicorn, [victim["access"]], rounds=10) == 0
