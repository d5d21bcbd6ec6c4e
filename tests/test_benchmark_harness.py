"""Smoke test of the benchmark harness: `--quick` runs end to end and writes its results.

Needs what the benchmarks need: PostgreSQL, Redis (database 14), redis-server and redis-cli
(the run starts a Redis Cluster of its own), wrk and the `bench` extra; in CI a missing one
fails the test, elsewhere it skips. Takes about 90 s. Do not run it while a full benchmark
runs: both use the `bench` database, ports 8711-8715 and Redis DB 14 (unless BENCH_INSTANCE,
BENCH_PORT and BENCH_REDIS_URL set them apart).
No timing is asserted: only that the harness runs and writes its report.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.postgres]


def _missing() -> str | None:
    for program in ("wrk", "redis-server", "redis-cli"):
        if shutil.which(program) is None:
            return f"{program} is not installed"
    for module in ("rest_framework_simplejwt", "knox", "matplotlib", "pyinstrument"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[bench]')"
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/14", socket_timeout=1).ping()
    except Exception as error:  # noqa: BLE001
        return f"Redis is not reachable: {error}"
    return None


def test_quick_run_writes_results(tmp_path: Path) -> None:
    reason = _missing()
    if reason and os.environ.get("CI"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        timeout=300,  # a cluster, four servers and the propagation phase, on 2 shared cores
    )
    markdown = (tmp_path / "results.md").read_text()
    assert "## Targets" in markdown
    assert "authtokens + RedisStore" in markdown
    assert "## Logout-all" in markdown
    assert "## Redis Cluster" in markdown and "on a Redis Cluster" in markdown
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "results.json").stat().st_size > 0
