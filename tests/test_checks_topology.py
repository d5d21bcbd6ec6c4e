"""Start-up checks of the store's own Redis connection (``AUTHTOKENS["REDIS"]``) and of the
numbers around it (README, Deployment; Settings)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis

from authtokens.checks import check_redis
from tests.test_checks import ids


@pytest.fixture
def with_authtokens(settings):
    def apply(**values):
        settings.AUTHTOKENS = {
            **settings.AUTHTOKENS,
            "REVOCATION_STORE": "authtokens.store.redis.RedisStore",
            **values,
        }

    return apply


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"REDIS": {"HOST": "x"}}, ["authtokens.E015"]),
        ({"REDIS": {"SENTINELS": [("127.0.0.1", 26379)]}}, ["authtokens.E015"]),
        ({"REDIS": {"URL": "redis://x", "CLUSTER": []}}, ["authtokens.E015"]),
        ({"REDIS": {"CLUSTER": [("h", 1)], "OPTIONS": "fast"}}, ["authtokens.E015"]),
        ({"REDIS_GROUPS": 0}, ["authtokens.E016"]),
        ({"REDIS_GROUPS": 16385}, ["authtokens.E016"]),
        ({"REDIS_MIN_REPLICAS": -1}, ["authtokens.E016"]),
        ({"REDIS_MIN_REPLICAS": "1"}, ["authtokens.E016"]),
        ({"REDIS_REPLICA_TIMEOUT": timedelta(0)}, ["authtokens.E016"]),
        ({"REDIS_REPLICA_TIMEOUT": timedelta(minutes=1)}, ["authtokens.E016"]),
        ({"REDIS_VERDICT_CACHE_BOUND": timedelta(0)}, ["authtokens.E016"]),
        ({"REDIS_VERDICT_CACHE_BOUND": timedelta(seconds=30)}, ["authtokens.E016"]),
        ({"REDIS_VERDICT_CACHE": True, "REDIS_MIN_REPLICAS": 1}, ["authtokens.E017"]),
    ],
)
def test_bad_topology_settings_are_refused(with_authtokens, values, expected):
    # A store connection of its own, never reached: with an error found, no node is asked.
    with_authtokens(**{"REDIS": {"URL": "redis://127.0.0.1:1/0"}, **values})
    assert ids(check_redis()) == expected


def test_a_store_connection_without_timeouts_is_reported(with_authtokens, own_redis):
    with_authtokens(REDIS={"URL": own_redis["url"], "OPTIONS": {"socket_timeout": None}})
    assert ids(check_redis()) == ["authtokens.W010"]


def test_a_master_with_fewer_replicas_than_required_is_reported(with_authtokens, own_redis):
    with_authtokens(REDIS={"URL": own_redis["url"]})
    assert check_redis() == []  # one node: no replica required by default
    with_authtokens(REDIS={"URL": own_redis["url"]}, REDIS_MIN_REPLICAS=1)
    assert ids(check_redis()) == ["authtokens.W013"]
    redis.Redis.from_url(own_redis["url"]).config_set("maxmemory-policy", "allkeys-lru")
    assert ids(check_redis()) == ["authtokens.W011", "authtokens.W013"]


def test_an_unreachable_store_connection_is_reported(with_authtokens, own_redis):
    own_redis["process"].kill()
    own_redis["process"].wait()
    with_authtokens(REDIS={"URL": own_redis["url"]})
    assert ids(check_redis()) == ["authtokens.W012"]


def test_every_master_of_a_cluster_is_checked(with_authtokens, redis_cluster):
    with_authtokens(REDIS={"CLUSTER": redis_cluster.startup_nodes})
    assert check_redis() == []  # 3 masters, a replica each: REDIS_MIN_REPLICAS 1 holds
    master = redis_cluster.masters()[1]
    redis_cluster.client(master).config_set("maxmemory-policy", "volatile-ttl")
    assert ids(check_redis()) == ["authtokens.W011"]
