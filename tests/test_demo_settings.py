"""Starting up: no process signs tokens with a key anyone can read, and 500s are logged.

The demo's DEBUG is off unless set (`make run` sets it), and authtokens itself refuses to start
(in ``AppConfig.ready()``, so gunicorn too, which runs no system checks) when its key would
derive from a development SECRET_KEY with DEBUG off. Each start is a fresh process, as
gunicorn or manage.py would be, with none of the test run's environment.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from authtokens import checks

ROOT = Path(__file__).resolve().parents[1]
STRONG_SECRET = "k3Q9-vX2pL7_mN4rT8wY1zB6cF0hJ5sD-aG3eU9iO2qW7xR4tV8yN1mK6lP0jH5"  # noqa: S105
INSECURE_SECRETS = {
    "startproject's kind": "django-insecure-" + STRONG_SECRET,
    "the demo's own fallback": "django-insecure-development-only-" + "x" * 32,
    "short": "Short-but-varied-0123456789",
    "few distinct characters": "abab" * 20,
}
SIGNING_KEY = "s" * 16 + "K" * 16  # noqa: S105  32 bytes


def start(module: str, code: str = "import django; django.setup()", **env: str):
    """Run ``code`` (or, if it ends in .py, that script and its arguments) in a fresh
    interpreter with settings ``module`` and only ``env`` set."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"}
        and not name.startswith(("AUTHTOKENS_", "DJANGO_", "BENCH_", "AT_"))
    }
    return subprocess.run(
        [sys.executable, *(code.split() if ".py " in code else ["-c", code])],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": module, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, "it started"
    assert "ImproperlyConfigured" in result.stderr, result.stderr[-2000:]
    return result.stderr


def started(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr[-3000:]


GUNICORN = "import project.wsgi"  # what gunicorn does first: get_wsgi_application()


def test_the_demo_refuses_to_start_with_nothing_set():
    """A deployment that sets nothing gets DEBUG off, hence no development SECRET_KEY."""
    assert "Set SECRET_KEY when DEBUG is off" in refused(start("project.settings", GUNICORN))


@pytest.mark.parametrize("secret", INSECURE_SECRETS.values(), ids=INSECURE_SECRETS.keys())
def test_the_demo_refuses_a_key_derived_from_a_development_secret(secret):
    stderr = refused(start("project.settings", GUNICORN, DEBUG="0", SECRET_KEY=secret))
    assert "key derived from SECRET_KEY" in stderr
    # manage.py too, check --deploy included: it never gets to warn.
    refused(start("project.settings", "manage.py check --deploy", DEBUG="0", SECRET_KEY=secret))


def test_the_demo_starts_with_its_own_signing_key_or_a_strong_secret():
    insecure = INSECURE_SECRETS["startproject's kind"]
    started(
        start(
            "project.settings",
            GUNICORN,
            DEBUG="0",
            SECRET_KEY=insecure,
            AUTHTOKENS_SIGNING_KEY=SIGNING_KEY,
        )
    )
    started(start("project.settings", GUNICORN, DEBUG="0", SECRET_KEY=STRONG_SECRET))


def test_the_demo_starts_for_development_with_debug_on():
    """`make run`: DEBUG=1 and nothing else."""
    started(start("project.settings", GUNICORN, DEBUG="1"))


@pytest.mark.parametrize(
    ("module", "env"),
    [
        ("tests.settings", {}),
        ("tests.settings_fast", {}),
        (
            "tests.integration.server_settings",
            {"AT_DB_NAME": "x", "AT_DB_PORT": "5432", "AT_REDIS_URL": "redis://127.0.0.1:1/0"},
        ),
        ("benchmarks.settings", {}),
        (  # as the load test (tests/load) starts it
            "tests.load.settings",
            {
                "DEBUG": "0",
                "SECRET_KEY": "load-test-" + "s" * 40,
                "AUTHTOKENS_SIGNING_KEY": "k" * 40,
            },
        ),
        ("tests.custom_user.settings", {}),
    ],
)
def test_every_other_settings_module_still_starts(module, env):
    if module.startswith("benchmarks.") and importlib.util.find_spec("knox") is None:
        pytest.skip("the benchmark settings need the bench extra (pip install -e '.[bench]')")
    started(start(module, **env))


def test_make_run_turns_debug_on_explicitly():
    plan = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    commands = [line for line in plan.splitlines() if "manage.py" in line]
    assert commands and all("DEBUG=1" in line for line in commands), plan


@pytest.mark.parametrize("secret", INSECURE_SECRETS.values(), ids=INSECURE_SECRETS.keys())
def test_any_project_refuses_a_derived_key_without_debug(settings, secret):
    """The rule lives in authtokens, not the demo: any project that forgets SIGNING_KEYS."""
    assert checks.is_development_secret(secret) and checks.is_development_secret(secret.encode())
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "SIGNING_KEYS": None}
    settings.SECRET_KEY, settings.DEBUG = secret, False
    with pytest.raises(ImproperlyConfigured, match="derived from SECRET_KEY"):
        checks.refuse_development_signing_key()
    settings.DEBUG = True
    checks.refuse_development_signing_key()
    settings.DEBUG = False
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "SIGNING_KEYS": [{"kid": "k", "algorithm": "HS256", "secret": SIGNING_KEY}],
    }
    checks.refuse_development_signing_key()


def test_a_strong_secret_may_derive_the_key(settings):
    assert not checks.is_development_secret(STRONG_SECRET)
    settings.AUTHTOKENS = {**settings.AUTHTOKENS, "SIGNING_KEYS": None}
    settings.SECRET_KEY, settings.DEBUG = STRONG_SECRET, False
    checks.refuse_development_signing_key()


BOOM = """
import django
django.setup()
from django.test import Client
from django.urls import path
import project.urls

def boom(request):
    raise ZeroDivisionError("a bug in a view")

project.urls.urlpatterns[:0] = [path("boom/", boom), path("api/boom/", boom)]
client = Client(raise_request_exception=False)
page, api = client.get("/boom/"), client.get("/api/boom/")
print(page.status_code, api.status_code, api["Content-Type"])
"""


def test_an_unhandled_error_is_logged_with_debug_off():
    """The demo's LOGGING sends django.request errors, with their traceback, to the console."""
    result = start(
        "project.settings",
        BOOM,
        DEBUG="0",
        SECRET_KEY=STRONG_SECRET,
        AUTHTOKENS_SIGNING_KEY=SIGNING_KEY,
        ALLOWED_HOSTS="testserver",
    )
    started(result)
    assert result.stdout.split() == ["500", "500", "application/json"]  # project.errors
    for path in ("/boom/", "/api/boom/"):
        assert f"Internal Server Error: {path}" in result.stderr, result.stderr
    assert result.stderr.count("ZeroDivisionError: a bug in a view") == 2, result.stderr


def test_an_unhandled_error_is_logged_once_with_debug_on():
    result = start("project.settings", BOOM, DEBUG="1", ALLOWED_HOSTS="testserver")
    started(result)
    assert result.stderr.count("Internal Server Error: /boom/") == 1, result.stderr
