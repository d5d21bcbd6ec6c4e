"""The report's revocation tables: logout-all, Redis memory, verification with a full denylist."""

from __future__ import annotations

from typing import Any

from ..common import median, spread
from .tables import DB_NAMES, us


def _logout_all_rows(db: str, rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in rows:
        cmds = ", ".join(f"{k} {v}" for k, v in sorted(r["redis_commands"].items()))
        lines.append(
            f"| {DB_NAMES[db]} | {r['devices']:,} | {r['seconds'] * 1e3:.1f} | "
            f"{r['sql_statements']} | {r['redis_round_trips']} | "
            f"{r['redis_server_calls']} ({cmds}) | {r['devices_marked_revoked']:,} |"
        )
    return lines


def logout_all_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Logout-all (sign out everywhere)",
        "",
        "`services.logout_all(user)` with the Redis store; median time over repetitions; "
        "SQL statements from `CaptureQueriesContext` (including BEGIN/COMMIT); Redis round "
        "trips counted in the client, server-side calls from `INFO commandstats` deltas "
        "(they include the GET and SET run inside the Lua script; the stats are "
        "server-wide, so the smallest delta over the repetitions is quoted).",
        "",
        "| database | devices | ms | SQL statements | Redis round trips | Redis server calls | devices marked |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for db, rev in results["revocation"].items():
        lines += _logout_all_rows(db, rev["logout_all"])
        kinds = rev["logout_all"][-1]["sql_kinds"]
        notes.append(f"Statements ({DB_NAMES[db]}): {', '.join(kinds)}.")
    return [
        *lines,
        "",
        *notes,
        "",
        "The one `UPDATE` of devices touches more rows as devices grow (it "
        "marks them for the device list); the number of statements and of Redis writes "
        "does not change.",
        "",
    ]


def memory_section(mem: dict[str, Any]) -> list[str]:
    return [
        "## Redis memory per revoked token",
        "",
        f"`INFO memory` used_memory delta over {mem['n']:,} revocations, each with a TTL; "
        "authtokens' layout (written by `RedisStore.token_revoked`'s own code; one call writes "
        f"`{mem['key_example']}`, a {mem['key_length']}-byte key) versus a naive "
        f"denylist keyed by the whole JWT ({mem['jwt_length']} bytes).",
        "",
        "| design | bytes per revoked token | MEMORY USAGE of the key one revocation writes |",
        "|---|---|---|",
        f"| authtokens (`RedisStore.token_revoked` layout) | {mem['ours_bytes_per_token']:.0f} | {mem['ours_memory_usage_one_key']} |",
        f"| whole JWT as key | {mem['naive_bytes_per_token']:.0f} | {mem['naive_memory_usage_one_key']} |",
        *(
            [
                f"| for reference: `t:` + 16 raw bytes | "
                f"{mem['short_binary_key_bytes_per_token']:.0f} | |"
            ]
            if "short_binary_key_bytes_per_token" in mem
            else []
        ),
        "",
    ]


def denylist_section(d: dict[str, Any], cfg: dict[str, Any]) -> list[str]:
    return [
        "## Verification with a full denylist",
        "",
        f"authtokens + Redis, in process: {d['cycles']} cycles of FLUSHDB, measure empty, "
        f"fill {d['entries']:,} live revoked jtis in the store's layout (by "
        f"Lua batches sent in a pipeline: {d['fill_seconds']:.1f} s; DBSIZE "
        f"{d['dbsize_full']:,}), measure full. Each measure: {cfg['denylist_rounds']} × "
        f"{cfg['denylist_requests']} requests, then as many bare reads of the same shape as the store's.",
        "",
        "| denylist | µs / request (median) | spread ± | bare read µs |",
        "|---|---|---|---|",
        f"| empty | {us(median(d['empty']))} | {spread(d['empty']):.1f}% | {us(median(d['bare']['empty']))} |",
        f"| {d['entries']:,} entries | {us(median(d['full']))} | {spread(d['full']):.1f}% | {us(median(d['bare']['full']))} |",
        "",
    ]


def memory_and_denylist_sections(results: dict[str, Any]) -> list[str]:
    lines = []
    for rev in results["revocation"].values():
        if "memory" in rev:
            lines += memory_section(rev["memory"])
            lines += denylist_section(rev["denylist"], results["config"])
    return lines
