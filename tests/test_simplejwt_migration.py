"""Migrating from djangorestframework-simplejwt: a project with both authentication classes
accepts both kinds of token until the old ones expire (README, "Migrating from simplejwt")."""

from __future__ import annotations

import jwt
import pytest

from authtokens import tokens
from tests.conftest import run_project_suite
from tests.test_tokens import claims, forge


@pytest.mark.integration  # a second project, in a pytest of its own
def test_a_project_accepts_simplejwt_and_authtokens_tokens_side_by_side():
    result = run_project_suite(
        "tests/simplejwt_migration/check_migration.py", "tests.simplejwt_migration.settings"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "6 passed" in result.stdout


def candidates() -> dict[str, tuple[str, bool]]:
    ours = forge(claims())
    without_iss = {name: value for name, value in claims().items() if name != "iss"}
    return {
        "ours": (ours, False),
        "our issuer, a retired key": (forge(claims(), kid="retired"), False),
        "our kid, another issuer": (forge({**claims(), "iss": "elsewhere"}), False),
        "their kid, their issuer": (forge({**claims(), "iss": "elsewhere"}, kid="theirs"), True),
        "no kid, no issuer (simplejwt's)": (jwt.encode(without_iss, "k" * 32), True),
        "not a JWT": ("not-a-jwt", False),
        "three segments of nothing": ("a.b.c", False),
        "too large to read": (jwt.encode({**without_iss, "pad": "x" * 5000}, "k" * 32), False),
    }


def test_only_a_jwt_naming_neither_our_key_nor_our_issuer_is_foreign(db):
    for name, (token, foreign) in candidates().items():
        assert tokens.is_foreign(token) is foreign, name
