"""Faults at random points of revocations and rebuilds: bounded, seeded, repeatable.

gunicorn (2 workers) reaches a redis-server of the test's own through a relay. Each step does
one thing, chosen by a seeded random generator: sign in, revoke (logout, RFC 7009, logout-all),
or break Redis (FLUSHALL, a SIGSTOP of random length, a cut of random length, connections
starved with maxclients, a kill and an empty restart, a dropped warm marker, a rebuild from
another process). After every step, every
token whose revocation has returned is replayed: none may be accepted. At the end, with Redis
back, every revoked token is still refused and every other token still works.

AUTHTOKENS_FAULT_SEEDS="1 2 3" runs other seeds; a failure prints the seed and the steps.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import jwt
import pytest
import redis

from authtokens.models import PendingMirrorWrite, RevokedAccessToken
from authtokens.store.redis import RedisStore
from tests.factories import PASSWORD, UserFactory
from tests.integration.conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)
SEEDS = [int(s) for s in os.environ.get("AUTHTOKENS_FAULT_SEEDS", "11 29").split()]
STEPS = 40
STORE = RedisStore()  # key names only


class Chaos:
    """The faults, each bounded in time; ``heal()`` undoes whatever is still broken."""

    def __init__(self, own_redis, relay, rng):
        self.own_redis, self.relay, self.rng = own_redis, relay, rng
        self.port = int(own_redis["url"].rsplit(":", 1)[1].split("/")[0])
        self.timers: list[threading.Timer] = []
        self.rebuilds: list[subprocess.Popen] = []
        self.keepers: list[redis.Redis] = []

    @property
    def client(self):
        return redis.Redis.from_url(self.own_redis["url"], socket_timeout=2)

    def flush(self):
        return self._command(lambda client: client.flushall())

    def drop_marker(self):
        return self._command(lambda client: client.delete(STORE.warm_key))

    def _command(self, command):
        """Run a command of ours; while Redis is starved or hung, that fault wins."""
        try:
            return command(self.client)
        except redis.RedisError as error:
            return type(error).__name__

    def hang(self):
        pid = self.own_redis["process"].pid
        os.kill(pid, signal.SIGSTOP)
        self._later(self.rng.uniform(0.1, 1.0), lambda: os.kill(pid, signal.SIGCONT))

    def starve(self):
        """Refuse every new connection and drop every open one but ours (maxclients)."""
        try:
            keeper = redis.Redis.from_url(
                self.own_redis["url"], socket_timeout=2, single_connection_client=True
            )
            keeper.config_set("maxclients", 1)
            keeper.client_kill_filter(_type="normal", skipme=True)
        except redis.RedisError as error:  # starved or hung already: that fault wins
            return type(error).__name__
        self.keepers.append(keeper)
        self._later(self.rng.uniform(0.1, 1.5), lambda: self._feed(keeper))

    def _feed(self, keeper):
        try:
            keeper.config_set("maxclients", 10000)
        except redis.RedisError:  # restarted meanwhile: the new one has the default
            pass

    def cut(self):
        self.relay.cut()
        self._later(self.rng.uniform(0.1, 1.5), self.relay.restore)

    def restart_empty(self):
        self.heal()
        process = self.own_redis["process"]
        process.kill()
        process.wait()
        self.own_redis["process"] = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not restart"
                time.sleep(0.05)

    def rebuild_elsewhere(self, connection_settings):
        """Another host rebuilds the mirror (it reaches Redis directly), in the background."""
        self.drop_marker()
        self.rebuilds.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "authtokens_rebuild"],
                cwd=ROOT,
                env={
                    **os.environ,
                    "DJANGO_SETTINGS_MODULE": "tests.integration.server_settings",
                    "AT_DB_NAME": connection_settings["NAME"],
                    "AT_DB_PORT": str(connection_settings["PORT"] or 5432),
                    "AT_REDIS_URL": self.own_redis["url"],
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def _later(self, seconds, action):
        timer = threading.Timer(seconds, action)
        self.timers.append(timer)
        timer.start()

    def heal(self):
        for timer in self.timers:
            if timer.is_alive():
                timer.cancel()
                timer.function()
        self.timers.clear()
        try:
            os.kill(self.own_redis["process"].pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        if self.relay.listener is None:
            self.relay.restore()
        for keeper in self.keepers:
            self._feed(keeper)
            keeper.close()
        self.keepers.clear()
        for process in self.rebuilds:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.rebuilds.clear()


def diagnose(chaos, token):
    """What the mirror and the database said about an accepted revoked token."""
    claims = jwt.decode(token, options={"verify_signature": False})
    client = chaos.client
    return {
        "warm": client.get(STORE.warm_key),
        "lock": client.get(STORE.key("rebuild")),
        "device": client.get(STORE.key("d", claims["did"])),
        "generation": client.get(STORE.key("u", claims["sub"])),
        "token": client.hexists(
            STORE.token_bucket(claims["jti"], claims.get("exp")), claims["jti"]
        ),
        "in_database": RevokedAccessToken.objects.filter(jti=claims["jti"]).exists(),
        "outbox": PendingMirrorWrite.objects.count(),
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_random_faults_let_no_revoked_token_in(
    seed, gunicorn_behind_redis_relay, redis_relay, own_redis
):
    from django.db import connection

    server, rng = gunicorn_behind_redis_relay, random.Random(seed)
    chaos = Chaos(own_redis, redis_relay, rng)
    users = [UserFactory() for _ in range(3)]
    live: list[tuple[object, str]] = []  # (user, access token)
    revoked: list[str] = []
    log: list[str] = []

    def sign_in():
        user = rng.choice(users)
        status, body, _ = server.request(
            "POST", "/api/token/", body={"username": user.username, "password": PASSWORD}
        )
        if status == 200:  # a 503 while the database is fine would be a bug caught below
            live.append((user, body["access"]))
        return status

    def revoke(kind):
        if not live:
            return sign_in()
        user, token = live.pop(rng.randrange(len(live)))
        if kind == "logout":
            status = server.request("POST", "/api/token/logout/", token)[0]
        elif kind == "rfc7009":
            status = server.request("POST", "/api/token/revoke/", token, {"token": token})[0]
        else:
            status = server.request("POST", "/api/token/logout-all/", token)[0]
        if status in (200, 204):
            revoked.append(token)
            if kind == "logout_all":  # every token of that user goes with it
                revoked.extend(t for u, t in live if u == user)
                live[:] = [(u, t) for u, t in live if u != user]
        return status

    actions = {
        "sign_in": sign_in,
        "logout": lambda: revoke("logout"),
        "rfc7009": lambda: revoke("rfc7009"),
        "logout_all": lambda: revoke("logout_all"),
        "flush": chaos.flush,
        "hang": chaos.hang,
        "cut": chaos.cut,
        "starve": chaos.starve,
        "restart_empty": chaos.restart_empty,
        "drop_marker": chaos.drop_marker,
        "rebuild_elsewhere": lambda: chaos.rebuild_elsewhere(connection.settings_dict),
    }
    weights = [4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1]
    for _ in range(4):
        sign_in()
    try:
        for step in range(STEPS):
            name = rng.choices(list(actions), weights)[0]
            outcome = actions[name]()
            log.append(f"{step}:{name}->{outcome}")
            sample = rng.sample(revoked, min(len(revoked), 6))
            accepted = [t for t in sample if server.request("GET", "/api/me/", t)[0] == 200]
            assert not accepted, f"seed {seed}: {log}; {[diagnose(chaos, t) for t in accepted]}"
    finally:
        chaos.heal()
    # Recovery: Redis back for good; the mirror rebuilds; nothing was lost either way.
    time.sleep(1.5)  # past REDIS_RETRY_INTERVAL of each worker
    for token in revoked:
        assert server.request("GET", "/api/me/", token)[0] == 401, f"seed {seed}: {log}"
    for _, token in live:
        assert server.request("GET", "/api/me/", token)[0] == 200, f"seed {seed}: {log}"
