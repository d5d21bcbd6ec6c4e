"""One clock: the app reads the wall clock only through ``authtokens.clock``."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import time_machine

from authtokens import clock, tokens

APP = Path(__file__).resolve().parents[1] / "authtokens"
WALL_CLOCK = re.compile(r"\btimezone\.now\b|\btime\.time\(\)|\bdatetime\.(?:utc)?now\(")


def test_no_module_reads_the_wall_clock_but_the_clock():
    readers = {
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if "migrations" not in path.parts and WALL_CLOCK.search(path.read_text())
    }
    assert readers == {"clock.py"}


def test_tokens_and_records_read_the_same_clock():
    with time_machine.travel(clock.now() + timedelta(days=400), tick=False):
        assert tokens.now() == clock.now()
        assert abs(clock.timestamp() - tokens.now().timestamp()) < 1e-6
