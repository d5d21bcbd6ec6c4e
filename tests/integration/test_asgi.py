"""``async def`` views under a real ASGI server (uvicorn, started here, stopped by pid).

authtokens' async helpers (``services.aauthenticate``, ``authentication.aauthenticate_token``,
``LazyUser.aload``) and ``@token_login_required`` on an async view must keep every revocation,
whether the answer comes from the database (the database store; the Redis store after a
FLUSHALL, while its mirror is cold) or from Redis once it is warm again.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from authtokens.store.redis import RedisStore
from tests.conftest import wait_until_warm
from tests.factories import PASSWORD, UserFactory
from tests.integration.conftest import Server, start_uvicorn, stop

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 5
STORES = {
    "database": "authtokens.store.database.DatabaseStore",
    "redis": "authtokens.store.redis.RedisStore",
}
COOKIE = "__Host-authtokens"  # tests.settings: COOKIE_SECURE


@pytest.fixture(params=sorted(STORES))
def uvicorn(request: Any, own_redis: dict[str, Any], transactional_db: Any) -> Iterator[Any]:
    process, server = start_uvicorn(own_redis["url"], STORES[request.param])
    yield request.param, server
    stop(process)


def page(server: Server, cookie: str | None) -> tuple[int, dict[str, str], bytes]:
    """GET the async page with the token cookie, redirects not followed."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(
            "GET", "/async/page/", headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def assert_valid_and_revoked(server: Server, user: Any, valid: dict, revoked: dict) -> None:
    for _ in range(ROUNDS):
        status, body, _ = server.request("GET", "/async/me/", valid["access"])
        assert status == 200, body
        assert body == {
            "id": str(user.pk),
            "username": user.username,
            "device": valid["device"]["id"],
        }
        status, body, _ = server.request("GET", "/async/me/", revoked["access"])
        assert (status, body) == (401, {"code": "token_revoked"})

        status, body, _ = server.request("GET", "/async/claims/", valid["access"])
        assert (status, body["sub"]) == (200, str(user.pk))
        status, body, _ = server.request("GET", "/async/claims/", revoked["access"])
        assert (status, body) == (401, {"code": "token_revoked"})

        status, _, content = page(server, valid["access"])
        assert status == 200, content
        assert b'"username": "%s"' % user.username.encode() in content
        status, headers, _ = page(server, revoked["access"])
        assert status == 302 and "reason=revoked" in headers["Location"]
        status, headers, _ = page(server, None)
        assert status == 302 and "reason=required" in headers["Location"]

        # DRF's sync views, which Django runs in a thread under ASGI, as ever.
        assert server.request("GET", "/api/me/", valid["access"])[0] == 200
        assert server.request("GET", "/api/me/", revoked["access"])[0] == 401


def test_async_views_keep_every_revocation_under_uvicorn(uvicorn, own_redis):
    store, server = uvicorn
    user = UserFactory()
    valid, revoked = (
        server.sign_in(user.username, PASSWORD),
        server.sign_in(user.username, PASSWORD),
    )
    assert server.request("POST", "/api/token/logout/", revoked["access"])[0] == 204
    client = redis.Redis.from_url(own_redis["url"])
    if store == "redis":
        client.flushall()  # cold: every answer comes from the database until the rebuild
    assert_valid_and_revoked(server, user, valid, revoked)
    if store == "redis":
        wait_until_warm(client, RedisStore())
        client.flushall()
    # A revocation made now, and one of the whole user, are refused at once as well.
    another = server.sign_in(user.username, PASSWORD)
    assert server.request("POST", "/api/token/logout/", another["access"])[0] == 204
    assert_valid_and_revoked(server, user, valid, another)
    assert server.request("POST", "/api/token/logout-all/", valid["access"])[0] == 204
    assert server.request("GET", "/async/me/", valid["access"])[:2] == (
        401,
        {"code": "token_revoked"},
    )
    assert page(server, valid["access"])[0] == 302


def test_the_decorator_keeps_an_async_view_async():
    """Django runs a view in the event loop only if it is a coroutine function."""
    from asgiref.sync import iscoroutinefunction

    from authtokens.pages import token_login_required

    async def view(request: Any) -> Any:
        raise NotImplementedError

    def sync_view(request: Any) -> Any:
        raise NotImplementedError

    assert iscoroutinefunction(token_login_required(view))
    assert not iscoroutinefunction(token_login_required(sync_view))
