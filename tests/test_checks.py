"""System checks turn bad settings into clear errors at start-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from authtokens.checks import check_redis, check_settings, check_shared_cache


def ids(messages):
    return sorted(message.id for message in messages)


@pytest.fixture
def with_authtokens(settings):
    def apply(**values):
        settings.AUTHTOKENS = {**settings.AUTHTOKENS, **values}

    return apply


def test_the_test_settings_pass(db):
    assert check_settings() == [] and check_redis() == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"ACCESS_LIFETIME": timedelta(minutes=1)}, ["authtokens.E002"]),
        ({"LEEWAY": 10}, ["authtokens.E003"]),
        ({"REFRESH_TOKEN_LIFETIME": timedelta(0)}, ["authtokens.E003"]),
        ({"NON_EXPIRING_AUDIENCES": ["Desktop"]}, ["authtokens.E004"]),
        ({"NATIVE_AUDIENCES": "iPhone-App"}, ["authtokens.E004"]),
        (
            {"SIGNING_KEYS": [{"kid": "k", "algorithm": "HS256", "secret": "short"}]},
            ["authtokens.E005"],
        ),
        (
            {"SIGNING_KEYS": [{"kid": "k", "algorithm": "none", "secret": "x" * 32}]},
            ["authtokens.E005"],
        ),
        ({"ACTIVE_KID": "missing"}, ["authtokens.E005"]),
        ({"MAX_TOKEN_LENGTH": "big"}, ["authtokens.E006"]),
        ({"FAILURE_LIMITS": "10/min"}, ["authtokens.E008"]),
        ({"COOKIE_SAMESITE": "None"}, ["authtokens.E009"]),
        ({"COOKIE_RENEW_AT": 1.5}, ["authtokens.E009"]),
        ({"REVOCATION_STORE": "authtokens.store.nowhere.Store"}, ["authtokens.E007"]),
        ({"WEB_ACCESS_TOKEN_LIFETIME": timedelta(days=2)}, ["authtokens.W001"]),
    ],
)
def test_bad_settings_are_reported(with_authtokens, values, expected):
    with_authtokens(**values)
    assert ids(check_settings()) == expected


@pytest.mark.redis
def test_fail_open_redis_options_are_refused(settings):
    cache = settings.CACHES["default"]
    options = {"IGNORE_EXCEPTIONS": True}
    with override_settings(CACHES={"default": {**cache, "OPTIONS": options}}):
        assert ids(check_redis()) == ["authtokens.E011", "authtokens.W010"]


@pytest.mark.redis
def test_the_redis_store_needs_django_redis(settings):
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=caches):
        assert ids(check_redis()) == ["authtokens.E010"]


def test_an_evicting_redis_is_reported(own_redis, settings, with_authtokens):
    from django_redis import get_redis_connection

    settings.CACHES = {
        **settings.CACHES,
        "own": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": own_redis["url"],
            "OPTIONS": {"SOCKET_TIMEOUT": 0.5, "SOCKET_CONNECT_TIMEOUT": 0.5},
        },
    }
    with_authtokens(REDIS_CACHE_ALIAS="own")
    assert check_redis() == []
    get_redis_connection("own").config_set("maxmemory-policy", "volatile-lru")
    assert ids(check_redis()) == ["authtokens.W011"]
    own_redis["process"].kill()
    own_redis["process"].wait()
    assert ids(check_redis()) == ["authtokens.W012"]


def test_insecure_cookies_without_debug_are_reported(with_authtokens, settings):
    with_authtokens(COOKIE_SECURE=False)
    settings.DEBUG = True
    assert ids(check_settings()) == []
    settings.DEBUG = False
    assert ids(check_settings()) == ["authtokens.W020"]


def test_a_process_local_default_cache_is_reported_in_production(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.DEBUG = False
    assert ids(check_shared_cache()) == ["authtokens.W030"]
    settings.DEBUG = True
    assert check_shared_cache() == []
