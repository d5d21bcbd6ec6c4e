"""authtokens in a second project: its own settings, a custom user model with UUID keys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_core_flow_runs_in_a_second_project_with_a_custom_user_model():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.custom_user.settings"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/custom_user/check_flow.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--confcutdir=tests/custom_user",
            "--ds=tests.custom_user.settings",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout
