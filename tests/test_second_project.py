"""authtokens in a second project: its own settings, a custom user model with UUID keys."""

from __future__ import annotations

import pytest

from tests.conftest import run_project_suite

pytestmark = pytest.mark.integration  # a second project, in a pytest of its own


def test_the_core_flow_runs_in_a_second_project_with_a_custom_user_model():
    result = run_project_suite("tests/custom_user/check_flow.py", "tests.custom_user.settings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout
