"""One contract for both revocation stores, and what the hot path costs on each."""

from __future__ import annotations

import time
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authtokens import services, tokens
from authtokens.conf import app_settings
from authtokens.exceptions import TokenRevoked
from authtokens.models import Device, Reason
from authtokens.store import get_store
from authtokens.store.database import DatabaseStore
from authtokens.store.redis import RedisStore
from tests.conftest import bearer
from tests.factories import UserFactory
from tests.memory_store import MemoryStore

pytestmark = pytest.mark.django_db(transaction=True)
CLUSTER_MARKS = [pytest.mark.redis, pytest.mark.redis_topology]


class RebuiltRedisStore(RedisStore):
    """The Redis store, asked only after its mirror was flushed and rebuilt from the database:
    what the rebuild copies must answer exactly as the writes it replaces."""

    def get_state(self, claims):
        self.client().flushdb()
        assert self.rebuild() is not None
        return super().get_state(claims)


class RebuiltClusterStore(RedisStore):
    """The same on a Redis Cluster: every master flushed, every group rebuilt."""

    def get_state(self, claims):
        from redis.cluster import RedisCluster

        self.client().flushall(target_nodes=RedisCluster.PRIMARIES)
        assert self.rebuild() is not None
        return super().get_state(claims)


@pytest.fixture(
    params=[
        pytest.param((DatabaseStore, False), id="database"),
        # The recipe's example (README, "Add a revocation store"): what a new store must pass.
        pytest.param((MemoryStore, False), id="memory"),
        pytest.param((RedisStore, False), id="redis", marks=pytest.mark.redis),
        pytest.param((RebuiltRedisStore, False), id="rebuilt", marks=pytest.mark.redis),
        # A real 3-master cluster with replicas, shared by these tests (tests/conftest.py).
        pytest.param((RedisStore, True), id="cluster", marks=CLUSTER_MARKS),
        pytest.param((RebuiltClusterStore, True), id="rebuilt-cluster", marks=CLUSTER_MARKS),
    ]
)
def contract_store(request, settings):
    store_class, clustered = request.param
    path = f"{store_class.__module__}.{store_class.__name__}"
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REVOCATION_STORE": path}
    if not clustered:
        return get_store()
    from redis.cluster import RedisCluster

    topology = request.getfixturevalue("shared_cluster")
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "REDIS": {"CLUSTER": topology.startup_nodes}}
    store = get_store()
    store.client().flushall(target_nodes=RedisCluster.PRIMARIES)
    assert store.rebuild() == 0  # every group warm, on an empty database
    return store


def issued_claims(user, **kwargs):
    return tokens.decode(services.issue(user, **kwargs).access, token_type=tokens.ACCESS)


def state_of(store, claims):
    return store.get_state(claims)


def assert_revoked(store, claims):
    with pytest.raises(TokenRevoked):
        state_of(store, claims).check(claims)


def test_a_fresh_token_is_not_revoked(contract_store, user):
    claims = issued_claims(user)
    state_of(contract_store, claims).check(claims)


def test_token_level(contract_store, user):
    revoked, kept = issued_claims(user), issued_claims(user)
    services.revoke_token(revoked, reason=Reason.TOKEN)
    assert_revoked(contract_store, revoked)
    state_of(contract_store, kept).check(kept)


def test_an_unknown_device_is_revoked(contract_store, user):
    claims = issued_claims(user)
    assert_revoked(contract_store, {**claims, "did": str(uuid.uuid4())})


def test_another_users_device_is_revoked(contract_store, user):
    mine, theirs = issued_claims(user), issued_claims(UserFactory())
    assert_revoked(contract_store, {**mine, "did": theirs["did"]})


def test_another_subject_on_my_device_is_revoked(contract_store, user):
    mine = issued_claims(user)
    assert_revoked(contract_store, {**mine, "sub": str(UserFactory().pk)})


def test_revocations_hold_until_exp_plus_the_leeway(contract_store, user):
    """Decode accepts a token until exp + LEEWAY: every level must hold that long."""
    device, token, person = issued_claims(user), issued_claims(user), issued_claims(UserFactory())
    services.revoke_device(device["did"], reason=Reason.ADMIN)
    services.revoke_token(token, reason=Reason.TOKEN)
    services.logout_all(Device.objects.get(pk=person["did"]).user)
    inside_leeway = app_settings.LEEWAY / 2
    for claims in (device, token, person):
        with time_machine.travel(tokens.expires_at(claims) + inside_leeway):
            assert_revoked(contract_store, claims)


def test_device_level(contract_store, user):
    claims = issued_claims(user)
    other = issued_claims(user)
    services.revoke_device(claims["did"], reason=Reason.ADMIN)
    assert_revoked(contract_store, claims)
    state_of(contract_store, other).check(other)


def test_user_level(contract_store, user):
    mine, theirs = issued_claims(user), issued_claims(UserFactory())
    assert services.revoke_user(user, reason=Reason.LOGOUT_ALL) == 1
    assert_revoked(contract_store, mine)
    state_of(contract_store, theirs).check(theirs)
    after = issued_claims(user)
    assert after["gen"] == 1
    state_of(contract_store, after).check(after)


def test_two_user_revocations_in_one_second_stay_ordered(contract_store, user):
    services.revoke_user(user, reason=Reason.LOGOUT_ALL)
    between = issued_claims(user)
    services.revoke_user(user, reason=Reason.LOGOUT_ALL)
    assert_revoked(contract_store, between)


def test_deleted_device_and_deleted_user(contract_store, user):
    device_claims, user_claims = issued_claims(user), issued_claims(UserFactory())
    Device.objects.filter(pk=device_claims["did"]).delete()
    assert_revoked(contract_store, device_claims)
    Device.objects.model.user.field.related_model.objects.filter(pk=user_claims["sub"]).delete()
    assert_revoked(contract_store, user_claims)


def test_rolled_back_revocation_never_reaches_the_store(contract_store, user):
    from django.db import transaction

    claims = issued_claims(user)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.revoke_device(claims["did"], reason=Reason.ADMIN)
        raise RuntimeError
    state_of(contract_store, claims).check(claims)


def test_redis_check_costs_one_command_and_no_query(api, user, sign_in, faulty):
    # A Redis of the test's own: commandstats count every client of a server, and other
    # suites may share the default one.
    redis = faulty["client"]
    token = sign_in(user)["access"]
    api.get("/ping/", **bearer(token))  # opens this thread's read connection (its handshake)
    guard_settled()
    before = command_counts(redis)
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/ping/", **bearer(token))
    after = command_counts(redis)
    assert response.status_code == 200 and response.json() == {"user_id": str(user.pk)}
    assert len(queries) == 0  # the user is loaded lazily, and nothing needed it
    spent = {name: n - before.get(name, 0) for name, n in after.items()}
    spent = {name: n for name, n in spent.items() if n}
    # One EVALSHA sent; commandstats also counts the calls the script makes inside it (the
    # warm marker, the device, the generation, the token's bucket). Plus the INFO that
    # counted "before". No audit: that runs in the auditor thread.
    assert spent == {
        "cmdstat_evalsha": 1,
        "cmdstat_exists": 1,
        "cmdstat_get": 2,
        "cmdstat_hexists": 1,
        "cmdstat_info": 1,
    }


def test_database_check_costs_one_query(api, user, sign_in, settings):
    token = sign_in(user)["access"]
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "REVOCATION_STORE": "authtokens.store.database.DatabaseStore",
    }
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/ping/", **bearer(token)).status_code == 200
    assert len(queries) == 1


# The mirror guard's own traffic: its standby connection's handshake, then a keep-alive PING
# every 10 s, on its own schedule. Counts of what a request costs leave them out.
GUARD_COMMANDS = {"cmdstat_ping", "cmdstat_select"}


def command_counts(redis):
    stats = redis.info("commandstats").items()
    return {name: s["calls"] for name, s in stats if name not in GUARD_COMMANDS}


def guard_settled():
    """Wait until this process's guard has opened its standby connection (boundedly)."""
    store = get_store()
    deadline = time.monotonic() + 5
    while not store.guard.standing_by:
        assert time.monotonic() < deadline, "the guard opened no standby connection"
        time.sleep(0.01)


def test_mass_revocation_is_constant_in_redis_writes_and_sql(api, sign_in, faulty):
    redis = faulty["client"]  # a Redis of the test's own, as above

    def cost_of_logout_all(device_count):
        user = UserFactory()
        bodies = [sign_in(user) for _ in range(device_count)]
        api.get("/ping/", **bearer(bodies[0]["access"]))  # the read connection is open
        guard_settled()
        before = command_counts(redis)
        with CaptureQueriesContext(connection) as queries:
            response = api.post("/api/token/logout-all/", **bearer(bodies[0]["access"]))
        assert response.status_code == 204
        after = command_counts(redis)
        commands = {name: after[name] - before.get(name, 0) for name in after}
        assert all(
            api.get("/ping/", **bearer(body["access"])).status_code == 401 for body in bodies
        )
        return {name: n for name, n in commands.items() if n and name != "cmdstat_info"}, len(
            queries
        )

    cost_of_logout_all(1)  # loads the write scripts into this Redis: later calls run by sha
    (one_commands, one_queries), (many_commands, many_queries) = (
        cost_of_logout_all(1),
        cost_of_logout_all(60),
    )
    assert one_queries == many_queries
    assert one_commands == many_commands
    # The request's own check, then one script for the whole user: two EVALSHAs.
    assert many_commands["cmdstat_evalsha"] == 2


def test_revoked_tokens_share_small_hashes_that_expire_with_them(user, redis):
    store = RedisStore()
    web = issued_claims(user)
    phone = issued_claims(user, client="native", audience="iPhone-App")  # never expires
    for claims in (web, phone):
        services.revoke_token(claims, reason=Reason.TOKEN)
    web_bucket = store.token_bucket(web["jti"], web["exp"])
    never_bucket = store.token_bucket(phone["jti"], None)
    assert redis.hexists(web_bucket, web["jti"]) and redis.pttl(web_bucket) > 0
    assert redis.hexists(never_bucket, phone["jti"]) and redis.pttl(never_bucket) == -1
    assert redis.object("encoding", web_bucket) == b"listpack"  # the compact encoding
