"""The Redis read path: one command per check, the audit beside the requests, and an instance
that forgot its scripts never trusted."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import redis as redis_py
import redis.connection

from authtokens import tokens
from authtokens.store import get_store
from authtokens.store.redis import RedisStore
from authtokens.store.scripts import READ_STATE_SHA
from tests.conftest import bearer, signed_in_pair, status, wait_until_warm

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def commands_of_this_thread(monkeypatch):
    """Every Redis command this thread writes on any redis-py connection, by name."""
    sent: list[str] = []
    connection_class, me = redis_py.connection.AbstractConnection, threading.get_ident()
    send_command = connection_class.send_command  # packs by itself, not through pack_command
    pack_command, pack_commands = connection_class.pack_command, connection_class.pack_commands

    def sent_whole(self, *args, **options):
        if threading.get_ident() == me:
            sent.append(str(args[0]).upper())
        return send_command(self, *args, **options)

    def one(self, *args):
        if threading.get_ident() == me:
            sent.append(str(args[0]).upper())
        return pack_command(self, *args)

    def many(self, commands):
        if threading.get_ident() == me:
            sent.extend(str(command[0]).upper() for command in commands)
        return pack_commands(self, commands)

    monkeypatch.setattr(connection_class, "send_command", sent_whole)
    monkeypatch.setattr(connection_class, "pack_command", one)
    monkeypatch.setattr(connection_class, "pack_commands", many)
    return sent


def test_a_request_sends_one_command_even_when_the_audit_is_due(
    api, user, sign_in, faulty, settings, commands_of_this_thread, django_assert_num_queries
):
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS_AUDIT_INTERVAL": timedelta(0)}
    token = sign_in(user)["access"]
    api.get("/ping/", **bearer(token))  # arms the store: its auditor thread runs from now
    time.sleep(0.2)  # several audits are due
    commands_of_this_thread.clear()
    with django_assert_num_queries(0):
        for _ in range(5):
            assert api.get("/ping/", **bearer(token)).status_code == 200
    assert commands_of_this_thread == ["EVALSHA"] * 5


def test_the_auditor_thread_drops_a_marker_from_another_instance(user, sign_in, faulty, settings):
    """No request comes: the auditor alone notices the marker's run_id is not this Redis's."""
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS_AUDIT_INTERVAL": timedelta(0)}
    store, client = get_store(), faulty["client"]
    claims = tokens.decode(sign_in(user)["access"], token_type=tokens.ACCESS)
    store.get_state(claims)  # arms the store
    client.set(store.warm_key, "run-id-of-another-instance")
    run_id, deadline = client.info("server")["run_id"].encode(), time.monotonic() + 10
    while client.get(store.warm_key) != run_id:  # dropped, then rebuilt on this instance
        assert time.monotonic() < deadline, "the auditor did not act"
        time.sleep(0.05)


def test_an_instance_that_forgot_its_scripts_is_not_trusted(api, user, sign_in, faulty):
    """SCRIPT FLUSH stands for a restart from a snapshot or a failover: the warm marker and
    every key are still there, the read script is not. The revocation below is missing from
    this Redis, as it would be from an old snapshot."""
    revoked, valid = signed_in_pair(api, user, sign_in)
    client, store = faulty["client"], get_store()
    claims = tokens.decode(revoked, token_type=tokens.ACCESS)
    client.set(store.key("d", claims["did"]), store.owner_value(claims["sub"]))  # "live" again
    client.script_flush()
    assert status(api, revoked) == 401  # NOSCRIPT: the database answers
    assert client.script_exists(READ_STATE_SHA) == [True]  # reloaded, after the marker went
    wait_until_warm(client, store)
    assert client.get(store.key("d", claims["did"])) == b"-"  # the rebuild restored it
    assert status(api, revoked) == 401 and status(api, valid) == 200


def test_replaced_stores_do_not_use_up_the_connection_pool(user, sign_in, faulty, settings):
    """Each store reads on connections of its own; replacing stores (settings changes) must
    not count them against the shared pool's max_connections."""
    settings.CACHES = {
        **settings.CACHES,
        "small-pool": {  # a URL of its own: django-redis shares one pool per URL
            **settings.CACHES["revocations"],
            "LOCATION": faulty["url"].rsplit("/", 1)[0] + "/1",
            "OPTIONS": {
                **settings.CACHES["revocations"]["OPTIONS"],
                "CONNECTION_POOL_KWARGS": {"max_connections": 3},
            },
        },
    }
    claims = tokens.decode(sign_in(user)["access"], token_type=tokens.ACCESS)
    for _ in range(10):
        store = RedisStore(cache_alias="small-pool")
        try:
            assert not store.get_state(claims).device_revoked
            assert not store._down, "the store fell back to the database"
        finally:
            store.close()
