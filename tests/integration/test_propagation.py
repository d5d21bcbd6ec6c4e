"""A revocation that has returned its response is refused by every worker on its next request.

gunicorn with 3 workers and a real redis-server. Before each revocation every worker has
accepted the token (so any per-process state, a cached verdict included, holds it); after the
revocation's response, requests go out in parallel until every worker has answered, and not
one may be accepted. Each trial revokes at a different level: the token, its device, its user.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from authtokens.conf import DEFAULTS
from tests.factories import PASSWORD, UserFactory
from tests.integration.conftest import start_gunicorn, stop
from tests.integration.test_mirror_protocol import warm_up

pytestmark = pytest.mark.django_db(transaction=True)
WORKERS = 3
TRIALS = 12  # four per level
PARALLEL = 6
BOUND = DEFAULTS[
    "REDIS_VERDICT_CACHE_BOUND"
]  # requests in flight at once: a sync worker serves one, so several are reached
REVOCATIONS = [
    ("POST", "/api/token/revoke/", "token"),
    ("POST", "/api/token/logout/", None),
    ("POST", "/api/token/logout-all/", None),
]


@pytest.fixture
def three_workers(own_redis, relay, transactional_db):
    process, server = start_gunicorn(own_redis["url"], relay.port, workers=WORKERS)
    yield server
    stop(process)


@pytest.fixture
def three_caching_workers(own_redis, relay, transactional_db):
    process, server = start_gunicorn(
        own_redis["url"], relay.port, workers=WORKERS, AT_VERDICT_CACHE="1"
    )
    yield server
    stop(process)


def answers_until_every_worker(server, token, pool, rounds=200):
    """Send ``token`` in parallel batches until all WORKERS have answered; return
    {pid: [statuses]}."""
    by_worker: dict[str, list[int]] = {}
    for _ in range(rounds):
        batch = pool.map(lambda _: server.request("GET", "/api/me/", token), range(PARALLEL))
        for status, _, headers in batch:
            by_worker.setdefault(headers["X-Worker-Pid"], []).append(status)
        if len(by_worker) == WORKERS:
            return by_worker
    raise AssertionError(f"only {len(by_worker)} of {WORKERS} workers answered")


def test_a_returned_revocation_is_refused_by_every_worker_on_its_next_request(
    three_workers, own_redis
):
    server, accepted_after, sent_after = three_workers, 0, 0
    warm_up(
        server,
        server.sign_in(UserFactory().username, PASSWORD)["access"],
        redis.Redis.from_url(own_redis["url"]),
    )
    with ThreadPoolExecutor(PARALLEL) as pool:
        for trial in range(TRIALS):
            token = server.sign_in(UserFactory().username, PASSWORD)["access"]
            before = answers_until_every_worker(server, token, pool)
            assert all(set(statuses) == {200} for statuses in before.values()), before
            method, path, body_key = REVOCATIONS[trial % len(REVOCATIONS)]
            body = {body_key: token} if body_key else None
            assert server.request(method, path, token, body)[0] in (200, 204)
            after = answers_until_every_worker(server, token, pool)
            sent_after += sum(len(statuses) for statuses in after.values())
            accepted_after += sum(statuses.count(200) for statuses in after.values())
    assert sent_after >= TRIALS * WORKERS
    assert accepted_after == 0


def test_with_the_verdict_cache_no_worker_accepts_a_revocation_past_the_bound(
    three_caching_workers, own_redis
):
    """REDIS_VERDICT_CACHE: every worker has the token's verdict cached; a revocation may be
    accepted by another worker for at most REDIS_VERDICT_CACHE_BOUND after it returned."""
    server, bound = three_caching_workers, BOUND.total_seconds()
    late, within, sent_late = 0, 0, 0
    warm_up(
        server,
        server.sign_in(UserFactory().username, PASSWORD)["access"],
        redis.Redis.from_url(own_redis["url"]),
    )
    with ThreadPoolExecutor(PARALLEL) as pool:
        for trial in range(TRIALS):
            token = server.sign_in(UserFactory().username, PASSWORD)["access"]
            answers_until_every_worker(server, token, pool)
            answers_until_every_worker(server, token, pool)  # now answered from each cache
            method, path, body_key = REVOCATIONS[trial % len(REVOCATIONS)]
            body = {body_key: token} if body_key else None
            assert server.request(method, path, token, body)[0] in (200, 204)
            returned = time.monotonic()
            while (sent := time.monotonic()) - returned < bound + 1.0:
                status = server.request("GET", "/api/me/", token)[0]
                if sent - returned > bound:
                    late, sent_late = late + (status == 200), sent_late + 1
                else:
                    within += status == 200
    print(f"verdict cache: {within} accepted within the {bound * 1000:.0f} ms bound")
    assert sent_late >= TRIALS
    assert late == 0
