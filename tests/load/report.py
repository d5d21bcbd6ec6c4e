"""The load test's figures: printed, and written to benchmarks/results/load.md."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

from .clients import Tally

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "load.md"


def report(tally: Tally, elapsed: float, args: Any) -> None:
    latencies = sorted(tally.latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    lines = [
        "# Load test",
        "",
        f"`python -m tests.load --duration {args.duration:g} --clients {args.clients} "
        f"--workers {args.workers}`: gunicorn with {args.workers} sync workers, PostgreSQL, "
        f"Redis, {args.clients} concurrent clients on loopback, {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests served | {len(latencies)} in {elapsed:.0f} s "
        f"({len(latencies) / elapsed:.0f}/s) |",
        f"| errors (5xx or no answer) | {len(tally.errors)} |",
        f"| latency p50 / p99 | {p50:.1f} ms / {p99:.1f} ms |",
        f"| revoked tokens replayed | {tally.revoked_checks} |",
        f"| **revoked tokens accepted** | **{tally.revoked_accepted}** |",
        "",
        "Requests by action: "
        + ", ".join(f"{k} {v}" for k, v in sorted(tally.by_action.items()))
        + ".",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if tally.errors:
        print("First errors:", tally.errors[:10])
