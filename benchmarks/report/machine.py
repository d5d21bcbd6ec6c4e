"""The machine and the versions a report's header names."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

from ..common import ROOT, redis_client

DISTRIBUTIONS = (
    "Django",
    "djangorestframework",
    "djangorestframework-simplejwt",
    "django-rest-knox",
    "PyJWT",
    "redis",
    "django-redis",
    "psycopg",
    "gunicorn",
    "authtokens",
)


def _run(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, cwd=ROOT)
        return (out.stdout or out.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _versions() -> dict[str, str]:
    """The installed version of each of DISTRIBUTIONS; those not installed are left out."""
    versions = {}
    for dist in DISTRIBUTIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _redis_version() -> str:
    try:
        return str(redis_client().info("server")["redis_version"])
    except Exception:  # noqa: BLE001  (a report without the version beats no report)
        return "?"


def _postgres_version() -> str:
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"]
    return _run([*psql, "-Atc", "show server_version"])


def _wrk_version() -> str:
    return re.sub(r"^wrk\s+|\s*\[.*", "", (_run(["wrk", "-v"]) or "?").splitlines()[0])


def _git() -> str:
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "status", "--porcelain", "--", "authtokens"])
    return commit + (" (authtokens/ has uncommitted changes)" if dirty else "")


def machine() -> dict[str, str]:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": _cpu(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "redis-server": _redis_version(),
        "postgresql": _postgres_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": _wrk_version(),
        "git": _git(),
        **_versions(),
    }
