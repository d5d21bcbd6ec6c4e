"""How the Redis store reaches Redis: one node, a Sentinel-managed master, or a Redis Cluster.

The store owns its connection (``AUTHTOKENS["REDIS"]``) rather than borrowing a django-redis
cache, because django-redis has no cluster client and a cache's options (fail-open
``IGNORE_EXCEPTIONS``, a serializer, a compressor) mean nothing to a store that only runs its
own scripts. Without that setting it still borrows ``CACHES[REDIS_CACHE_ALIAS]`` as it always
did (a single node, or Sentinel through django-redis's ``SentinelClient``).

A topology answers three questions for the store: which client to write with, which node
serves a slot (by name; ``pool_of`` gives its connection pool, for the read's and the guard's
own connections), and what each primary's ``run_id`` is (the warm marker's proof that a node
is the one the mirror was built on).
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import ConnectionError

from ..conf import app_settings


class SingleNode:
    """One Redis (perhaps a Sentinel-managed master): every group lives on it."""

    clustered = False

    def __init__(self, client: Any) -> None:
        self.client = client
        self._master: Any = None  # the address Sentinel named last, if Sentinel manages it

    def name_for_slot(self, slot: int) -> str:
        return ""

    def primary_names(self) -> list[str]:
        return [""]

    def pool_of(self, name: str) -> Any:
        return self.client.connection_pool

    def run_ids(self) -> dict[str, str]:
        return {"": self.client.info("server")["run_id"]}

    def on_node(self, name: str) -> Any:
        """A client whose commands all go to the node called ``name``."""
        return self.client

    def refresh(self) -> None:
        """Nothing to learn again: a Sentinel-managed pool asks the sentinels by itself."""

    def master_moved(self) -> bool:
        """Whether Sentinel names another master than last time it was asked (never for a
        node without Sentinel)."""
        pool = self.client.connection_pool
        if not hasattr(pool, "get_master_address"):
            return False
        address = pool.get_master_address()
        moved, self._master = self._master not in (None, address), address
        return moved

    def forget_connections(self) -> None:
        """Close the pool's idle connections: the next ones ask Sentinel for the master."""
        self.client.connection_pool.disconnect(inuse_connections=False)

    def delete_now(self, name: str, keys: tuple[str, ...]) -> None:
        """DEL ``keys`` on a connection opened now (Sentinel resolves the master afresh)."""
        pool = self.pool_of(name)
        connection = pool.connection_class(**pool.connection_kwargs)
        try:
            connection.connect()  # asks Sentinel for the master (see RedisStore._read)
            connection.send_command("DEL", *keys)
            connection.read_response()
        finally:
            connection.disconnect()

    def close(self) -> None:
        """The client belongs to django-redis, or is closed with its pool."""


class Cluster:
    """A Redis Cluster through redis-py's ``RedisCluster``, which follows MOVED and failovers."""

    clustered = True

    def __init__(self, client: Any) -> None:
        self.client = client

    def name_for_slot(self, slot: int) -> str:
        return str(self.client.nodes_manager.get_node_from_slot(slot).name)

    def primary_names(self) -> list[str]:
        return [node.name for node in self.client.get_primaries()]

    def pool_of(self, name: str) -> Any:
        return self.on_node(name).connection_pool

    def run_ids(self) -> dict[str, str]:
        return {
            node.name: node.redis_connection.info("server")["run_id"]
            for node in self.client.get_primaries()
        }

    def on_node(self, name: str) -> Any:
        node = self.client.get_node(node_name=name)
        if node is None:  # it left the cluster: what was owed to it is moot (see guard_for)
            raise ConnectionError(f"{name} is no longer a node of the cluster")
        return node.redis_connection

    def refresh(self) -> None:
        """Learn the slot map again (after a MOVED, a failover, or a node that went away)."""
        self.client.nodes_manager.initialize()

    def master_moved(self) -> bool:
        return False  # RedisCluster follows failovers itself (refresh)

    def forget_connections(self) -> None:
        """Nothing: RedisCluster drops a node's connections when the node fails."""

    def delete_now(self, name: str, keys: tuple[str, ...]) -> None:
        self.client.delete(*keys)

    def close(self) -> None:
        self.client.close()


def required_replicas(config: dict[str, Any] | None) -> int:
    """``REDIS_MIN_REPLICAS``, or its default for the topology ``config`` (a ``REDIS``
    setting, None for a django-redis cache): 1 with Sentinel or Cluster, 0 on one node."""
    wanted = app_settings.REDIS_MIN_REPLICAS
    if wanted is None:
        return int(bool((config or {}).keys() & {"SENTINELS", "CLUSTER"}))
    return int(wanted)


def connect(cache_alias: str | None = None) -> SingleNode | Cluster:
    """The topology ``AUTHTOKENS["REDIS"]`` describes, or a django-redis cache's node (the
    one named, or ``REDIS_CACHE_ALIAS`` when that setting is None)."""
    config = app_settings.REDIS
    if config is None or cache_alias is not None:
        from django_redis import get_redis_connection

        return SingleNode(get_redis_connection(cache_alias or app_settings.REDIS_CACHE_ALIAS))
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One attempt per command: a request must not multiply a timeout by redis-py's retries
    # (3 by default, and each Sentinel lookup asks every sentinel); the database answers.
    options = {
        "socket_timeout": 0.5,
        "socket_connect_timeout": 0.5,
        "retry": Retry(NoBackoff(), 0),
        **config.get("OPTIONS", {}),
    }
    if "CLUSTER" in config:
        from redis.cluster import ClusterNode, RedisCluster

        nodes = [ClusterNode(host, port) for host, port in config["CLUSTER"]]
        # Few retries: a request must not wait out a failover; the database answers meanwhile.
        options["retry"] = Retry(NoBackoff(), 1)  # one more try, on the refreshed slot map
        return Cluster(RedisCluster(startup_nodes=nodes, **options))
    if "SENTINELS" in config:
        from redis.sentinel import Sentinel

        sentinel = Sentinel(
            [tuple(address) for address in config["SENTINELS"]],
            sentinel_kwargs=config.get("SENTINEL_OPTIONS", options),
            **options,
        )
        return SingleNode(sentinel.master_for(config["SERVICE_NAME"], db=config.get("DB", 0)))
    from redis import Redis

    return SingleNode(Redis.from_url(config["URL"], **options))
