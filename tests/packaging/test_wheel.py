"""The wheel, installed where nothing else is, in fresh projects that follow the README.

Runs ``check_wheel.py`` step by step: build the sdist and the wheel, install the wheel into a
clean virtualenv, then two ``django-admin startproject`` projects (Django's user model, and an
email user model with UUID keys) with the README's snippets on SQLite. About 50 s with pip's
cache warm (the first run downloads the dependencies from PyPI). The first project also runs
the README's Redis snippet against the suite's Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.packaging import check_wheel


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wheel-check")


@pytest.fixture(scope="module")
def built(workdir: Path) -> tuple[Path, Path]:
    return check_wheel.build(workdir)


@pytest.fixture(scope="module")
def python(built: tuple[Path, Path], workdir: Path) -> Path:
    return check_wheel.install(built[0], workdir)


def test_the_wheel_and_the_sdist_ship_what_a_project_needs(built: tuple[Path, Path]) -> None:
    check_wheel.inspect(*built)


def test_a_fresh_project_follows_the_readme(python: Path, workdir: Path) -> None:
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    check_wheel.fresh_project(python, workdir, custom_user=False, redis_url=redis_url)


def test_a_fresh_project_with_an_email_user_model_and_uuid_keys(
    python: Path, workdir: Path
) -> None:
    check_wheel.fresh_project(python, workdir, custom_user=True)
