"""`make test-fast`: the suite on SQLite with the database store, needing no service."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANE = '-m "not redis and not postgres and not browser and not integration"'


def make_plan(target):
    plan = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return next(line for line in plan.splitlines() if "-m pytest" in line)


def test_make_test_fast_runs_the_fast_settings_without_the_service_markers():
    command = make_plan("test-fast")
    assert "--ds=tests.settings_fast" in command and LANE in command


def test_make_test_still_runs_every_test():
    options = make_plan("test").split("-m pytest", 1)[1]
    assert " -m " not in options and "--ds" not in options


def test_the_fast_settings_use_no_service():
    fast = importlib.import_module("tests.settings_fast")
    assert fast.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert fast.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert fast.AUTHTOKENS["REVOCATION_STORE"] == "authtokens.store.database.DatabaseStore"


def test_the_lane_leaves_out_every_test_of_the_service_folders():
    folders = ["tests/integration", "tests/browser", "tests/packaging"]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:randomly"]
        + ["--ds=tests.settings_fast", "-m", LANE.split('"')[1], *folders],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    # pytest's exit code 5: no test selected.
    assert collected.returncode == 5, collected.stdout[-2000:] + collected.stderr[-2000:]
    assert " deselected" in collected.stdout
