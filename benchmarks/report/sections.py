"""The report's tables of refreshes, of Redis commands and SQL queries, and of propagation."""

from __future__ import annotations

from typing import Any

from ..common import LABELS, median, spread
from .tables import DB_NAMES, percentile


def refresh_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Refresh with rotation (in process)",
        "",
        "| database | library | refreshes/s | ms / refresh | spread ± |",
        "|---|---|---|---|---|",
    ]
    for db, run in results["inprocess"].items():
        for name, values in run["refresh"].items():
            label = (
                "authtokens (rotation, reuse detection)"
                if name == "authtokens"
                else "simplejwt (ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION)"
            )
            lines.append(
                f"| {DB_NAMES[db]} | {label} | {1 / median(values):,.0f} | "
                f"{median(values) * 1e3:.2f} | {spread(values):.1f}% |"
            )
    return [*lines, ""]


def costs_section(results: dict[str, Any]) -> list[str]:
    lines = []
    for db, run in results["inprocess"].items():
        if "costs" not in run:
            continue
        lines += [
            f"## Redis commands and SQL queries per request ({DB_NAMES[db]})",
            "",
            "One warm request of each scheme, in process: Redis commands counted in the client "
            "(an `EVALSHA` is one, whatever its script reads), SQL queries by "
            "`CaptureQueriesContext`.",
            "",
            "| scheme | Redis commands | SQL queries |",
            "|---|---|---|",
            *[
                f"| {LABELS[name]} | {c['redis_commands']} | {c['sql_queries']} |"
                for name, c in run["costs"].items()
            ],
            "",
        ]
    return lines


def _propagation_rows(trials: list[dict[str, Any]]) -> list[str]:
    rows = []
    for label, key in (
        ("the revocation request itself (sent → response)", "revoke_seconds"),
        ("sent → refused by every worker", "every_worker_seconds"),
    ):
        values = [t[key] for t in trials]
        rows.append(
            f"| {label} | {percentile(values, 0.5) * 1e3:.1f} | "
            f"{percentile(values, 0.99) * 1e3:.1f} | {max(values) * 1e3:.1f} |"
        )
    return rows


def propagation_section(results: dict[str, Any]) -> list[str]:
    prop = results.get("propagation")
    if not prop:
        return []
    trials = prop["trials"]
    return [
        f"## Revocation propagation to every worker ({DB_NAMES[prop['db']]})",
        "",
        f"gunicorn with {prop['workers']} sync workers, the Redis store; {len(trials)} trials. "
        "In each, every worker first accepts the token; three pollers keep requesting it while "
        "`POST /api/token/revoke/` is sent; a worker has the revocation from its first "
        "refusal. Times in ms, nearest-rank percentiles. The copy to Redis is made before the "
        "revocation's response, so every worker refuses from then on: what remains is the "
        "polling interval.",
        "",
        "| interval | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|",
        *_propagation_rows(trials),
        "",
        f"Requests sent after a revocation's response: "
        f"{sum(t['requests_after_response'] for t in trials):,}; accepted: "
        f"{sum(t['accepted_after_response'] for t in trials)}.",
        "",
    ]
