"""Migrating from djangorestframework-simplejwt: a project with both authentication classes
accepts both kinds of token until the old ones expire (README, "Migrating from simplejwt")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt

from authtokens import tokens
from tests.test_tokens import claims, forge

ROOT = Path(__file__).resolve().parents[1]


def test_a_project_accepts_simplejwt_and_authtokens_tokens_side_by_side():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.simplejwt_migration.settings"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/simplejwt_migration/check_migration.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--confcutdir=tests/simplejwt_migration",
            "--ds=tests.simplejwt_migration.settings",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
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
