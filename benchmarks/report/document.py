"""``write``: results.md, section by section in the order it reads, then results.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .chart import chart
from .cluster import cluster_section
from .machine import machine
from .revocation import logout_all_section, memory_and_denylist_sections
from .sections import costs_section, propagation_section, refresh_section
from .tables import per_request_sections
from .targets import target_row, targets
from .time_spent import where_time_goes

INTRODUCTION = (
    "Cost = time per request (median over rounds; schemes interleaved round by round, the "
    'starting scheme rotating). Ratios compare medians of the same run. "× floor" divides '
    'by the no-authentication view; "auth cost over floor" subtracts it. Every authtokens '
    "request checks revocation at every level (token, device, user generation; key "
    "retirement on decode)."
)
METHOD = [
    "## Method",
    "",
    "- One command runs everything: fresh databases (SQLite file under /tmp; PostgreSQL "
    "database `bench`, dropped and recreated), migrations, one user with one credential per "
    "scheme, then the phases above. Redis database 14 only (flushed before and after), and "
    "a Redis Cluster started for the run (3 masters, 1 replica each) and stopped after it.",
    "- Views (`benchmarks/urls.py`): one trivial `APIView` per scheme with its own "
    '`authentication_classes` and `IsAuthenticated`, returning `{"ok": true}`. Settings '
    "(`benchmarks/settings.py`): DEBUG off, a one-middleware stack, JSON renderer only, "
    "persistent connections without per-request health checks, HS256 with 32-byte keys for "
    "both JWT libraries. authtokens runs with its defaults otherwise: every level checked.",
    "- What each scheme does per request: DRF token: one SELECT (token joined to user). "
    "knox: two SELECTs (token joined to user; the user's other tokens, for expiry cleanup) "
    "and a SHA-512. simplejwt `JWTAuthentication`: decode, one SELECT of the user; no "
    "revocation check of access tokens (its blacklist covers refresh tokens only). "
    "simplejwt stateless: decode only, no revocation. authtokens + Redis: decode, one "
    "`EVALSHA` of one small Lua script (warm marker, device, generation, token bucket), no "
    "SQL; the audit runs in a background thread. authtokens + database store: decode, "
    "one SELECT.",
    "- End to end: four gunicorn servers (the Redis store, the same with the verdict "
    "cache, the database store, the Redis store on a Redis Cluster of 3 masters with a "
    "replica each; 2 sync workers each) "
    "run side by side, only one loaded at a time; wrk shares the machine's CPUs with them, "
    "with PostgreSQL and with Redis, as a single-box deployment would.",
    "",
]


def write(results: dict[str, Any], out: Path) -> None:
    info = machine()
    results["machine"] = info
    found = targets(results)
    lines = [
        *header(results, info),
        *targets_section(found),
        *per_request_sections(results),
        *refresh_section(results),
        *logout_all_section(results),
        *memory_and_denylist_sections(results),
        *cluster_section(results),
        *costs_section(results),
        *propagation_section(results),
        *where_time_goes(results, found),
        *METHOD,
    ]
    (out / "results.md").write_text("\n".join(lines))
    chart(results, out / "results.png")


def header(results: dict[str, Any], info: dict[str, str]) -> list[str]:
    quick = " · **quick mode: smoke-test sizes, not figures to quote**"
    return [
        "# authtokens benchmarks",
        "",
        f"{info['date']} · {info['nproc']} CPUs ({info['cpu']}) · {info['os']} · Python "
        f"{info['python']} · wall time {results['wall_seconds']:.0f} s · load average "
        f"{results['load']['before'][0]:.2f} before, {results['load']['after'][0]:.2f} after"
        + (quick if results["config"]["quick"] else ""),
        "",
        "Versions: "
        + ", ".join(
            f"{k} {v}" for k, v in info.items() if k not in {"date", "nproc", "cpu", "os", "python"}
        )
        + ".",
        "",
        INTRODUCTION,
        "",
    ]


def targets_section(found: list[dict[str, Any]]) -> list[str]:
    return [
        "## Targets",
        "",
        "| target | where | measured | verdict |",
        "|---|---|---|---|",
        *[target_row(t) for t in found if t["kind"] != "inprocess"],
        "",
        "The end-to-end ratios are the ones the targets name; the in-process ones, for reference:",
        "",
        "| target | where | measured | verdict |",
        "|---|---|---|---|",
        *[target_row(t) for t in found if t["kind"] == "inprocess"],
        "",
    ]
