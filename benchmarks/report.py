"""Turn results.json into results.md (tables, targets, where the time goes) and results.png."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from .common import LABELS, ROOT, SCHEMES, median, redis_client, spread

PEERS = ["drf-token", "knox", "simplejwt", "simplejwt-stateless"]
DB_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def _run(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, cwd=ROOT)
        return (out.stdout or out.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in (
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
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "-"
    try:
        redis_version = redis_client().info("server")["redis_version"]
    except Exception:  # noqa: BLE001  (a report without the version beats no report)
        redis_version = "?"
    import sqlite3

    pg = _run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-Atc",
            "show server_version",
        ]
    )
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "status", "--porcelain", "--", "authtokens"])
    versions = {k: v for k, v in versions.items() if v != "-"}
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "redis-server": redis_version,
        "postgresql": pg,
        "sqlite": sqlite3.sqlite_version,
        "wrk": re.sub(r"^wrk\s+|\s*\[.*", "", (_run(["wrk", "-v"]) or "?").splitlines()[0]),
        "git": commit + (" (authtokens/ has uncommitted changes)" if dirty else ""),
        **versions,
    }


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f}"


def medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {name: median(values) for name, values in samples.items()}


def per_request_table(run: dict[str, Any], with_rps: bool) -> list[str]:
    m = medians(run["requests"])
    floor = m["floor"]
    head = (
        "| scheme | "
        + ("req/s | " if with_rps else "")
        + ("µs / request | × floor | auth cost over floor (µs) | × simplejwt | × knox | spread ± |")
    )
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for name in SCHEMES:
        value = m[name]
        cells = [f"**{LABELS[name]}**" if name.startswith("authtokens") else LABELS[name]]
        if with_rps:
            cells.append(f"{1 / value:,.0f}")
        cells += [
            us(value),
            f"{value / floor:.2f}",
            us(value - floor) if name != "floor" else "0",
            f"{value / m['simplejwt']:.2f}",
            f"{value / m['knox']:.2f}",
            f"{spread(run['requests'][name]):.1f}%",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue, measured: ratios of time per request from one run."""
    found = []
    specs = [
        (
            "authtokens + Redis ≤ 0.6 × simplejwt JWTAuthentication",
            "authtokens-redis",
            "simplejwt",
            0.6,
        ),
        ("authtokens + Redis ≤ 0.5 × knox", "authtokens-redis", "knox", 0.5),
        (
            "authtokens + Redis ≤ 1.25 × simplejwt stateless",
            "authtokens-redis",
            "simplejwt-stateless",
            1.25,
        ),
        (
            "authtokens + Redis + verdict cache ≤ 1.1 × simplejwt stateless",
            "authtokens-cached",
            "simplejwt-stateless",
            1.1,
        ),
        (
            "authtokens + database store ≤ 0.8 × simplejwt JWTAuthentication",
            "authtokens-db",
            "simplejwt",
            0.8,
        ),
    ]
    for kind in ("e2e", "inprocess"):
        for db, run in results[kind].items():
            m = medians(run["requests"])
            floor = m["floor"]
            for title, ours, peer, limit in specs:
                ratio = m[ours] / m[peer]
                rounds = [
                    a / b for a, b in zip(run["requests"][ours], run["requests"][peer], strict=True)
                ]
                # Above the floor; meaningless when the peer costs about nothing above it.
                peer_cost = m[peer] - floor
                over = (m[ours] - floor) / peer_cost if peer_cost > 0.1 * floor else None
                found.append(
                    {
                        "target": title,
                        "where": f"{'end to end' if kind == 'e2e' else 'in process'}, {DB_NAMES[db]}",
                        "kind": kind,
                        "db": db,
                        "value": ratio,
                        "limit": limit,
                        "met": ratio <= limit,
                        "over_floor": over,
                        "rounds": (min(rounds), max(rounds)),
                    }
                )
    found += propagation_targets(results)
    revocation = results["revocation"]
    for db, rev in revocation.items():
        rows = rev["logout_all"]
        trips = {r["redis_round_trips"] for r in rows}
        sql = {r["sql_statements"] for r in rows}
        found.append(
            {
                "target": "logout-all: O(1) Redis writes, bounded SQL",
                "where": DB_NAMES[db],
                "kind": "revocation",
                "db": db,
                "value": f"Redis round trips {sorted(trips)}, SQL statements {sorted(sql)} for "
                f"{', '.join(str(r['devices']) for r in rows)} devices",
                "met": len(trips) == 1 and len(sql) == 1 and max(trips) <= 1,
            }
        )
        if "memory" in rev:
            mem = rev["memory"]
            found.append(
                {
                    "target": "Redis memory ≤ 64 bytes per revoked token",
                    "where": f"Redis {mem['redis_version']}",
                    "kind": "memory",
                    "db": db,
                    "value": f"{mem['ours_bytes_per_token']:.0f} bytes (used_memory delta over "
                    f"{mem['n']:,}); MEMORY USAGE of one key: {mem['ours_memory_usage_one_key']}",
                    "met": mem["ours_bytes_per_token"] <= 64,
                }
            )
        if "denylist" in rev:
            d = rev["denylist"]
            empty = d["empty"]
            change = median(d["full"]) / median(empty) - 1
            per = len(d["full"]) // d["cycles"]
            cycles = [
                median(d["full"][i * per : (i + 1) * per])
                / median(d["empty"][i * per : (i + 1) * per])
                for i in range(d["cycles"])
            ]
            found.append(
                {
                    "target": "verification flat between 0 and 1M denylist entries",
                    "where": f"in process, {d['entries']:,} entries",
                    "kind": "denylist",
                    "db": db,
                    "value": f"{us(median(empty))} µs empty vs {us(median(d['full']))} µs full "
                    f"({change:+.1%}; full/empty per cycle: "
                    f"{', '.join(f'{c:.2f}' for c in cycles)}); met when the full denylist "
                    "costs at most 10% more (a faster full run is noise)",
                    "met": change <= 0.10,
                }
            )
    return found


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def propagation_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    prop = results.get("propagation")
    found = []
    if prop:
        trials = prop["trials"]
        accepted = sum(t["accepted_after_response"] for t in trials)
        sent = sum(t["requests_after_response"] for t in trials)
        found.append(
            {
                "target": "a returned revocation is refused by every worker on its next request",
                "where": f"end to end, {DB_NAMES[prop['db']]}, {prop['workers']} workers",
                "kind": "propagation",
                "db": prop["db"],
                "value": f"{accepted} accepted of {sent:,} requests sent after "
                f"{len(trials)} revocations' responses",
                "met": accepted == 0,
            }
        )
    return found


def propagation_section(results: dict[str, Any]) -> list[str]:
    prop = results.get("propagation")
    if not prop:
        return []
    trials = prop["trials"]
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
        *rows,
        "",
        f"Requests sent after a revocation's response: "
        f"{sum(t['requests_after_response'] for t in trials):,}; accepted: "
        f"{sum(t['accepted_after_response'] for t in trials)}.",
        "",
    ]


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


def _fmt_target(t: dict[str, Any]) -> str:
    if isinstance(t["value"], float):
        over = "n/a (peer ≈ floor)" if t["over_floor"] is None else f"{t['over_floor']:.2f} ×"
        low, high = t["rounds"]
        value = (
            f"**{t['value']:.2f} ×** (limit {t['limit']}); rounds {low:.2f}–{high:.2f}; "
            f"cost above the floor: {over}"
        )
        if low <= t["limit"] <= high:
            value += "; *rounds straddle the limit*"
    else:
        value = t["value"]
    return f"| {t['target']} | {t['where']} | {value} | {'**met**' if t['met'] else '**missed**'} |"


def write(results: dict[str, Any], out: Path) -> None:
    info = machine()
    results["machine"] = info
    found = targets(results)
    lines = [
        "# authtokens benchmarks",
        "",
        f"{info['date']} · {info['nproc']} CPUs ({info['cpu']}) · {info['os']} · Python "
        f"{info['python']} · wall time {results['wall_seconds']:.0f} s · load average "
        f"{results['load']['before'][0]:.2f} before, {results['load']['after'][0]:.2f} after"
        + (
            " · **quick mode: smoke-test sizes, not figures to quote**"
            if results["config"]["quick"]
            else ""
        ),
        "",
        "Versions: "
        + ", ".join(
            f"{k} {v}" for k, v in info.items() if k not in {"date", "nproc", "cpu", "os", "python"}
        )
        + ".",
        "",
        "Cost = time per request (median over rounds; schemes interleaved round by round, the "
        'starting scheme rotating). Ratios compare medians of the same run. "× floor" divides '
        'by the no-authentication view; "auth cost over floor" subtracts it. Every authtokens '
        "request checks revocation at every level (token, device, user generation; key "
        "retirement on decode).",
        "",
        "## Targets",
        "",
        "| target | where | measured | verdict |",
        "|---|---|---|---|",
        *[_fmt_target(t) for t in found if t["kind"] != "inprocess"],
        "",
        "The end-to-end ratios are the ones the targets name; the in-process ones, for reference:",
        "",
        "| target | where | measured | verdict |",
        "|---|---|---|---|",
        *[_fmt_target(t) for t in found if t["kind"] == "inprocess"],
        "",
    ]
    cfg = results["config"]
    for db, run in results["e2e"].items():
        lines += [
            f"## End to end, {DB_NAMES[db]}",
            "",
            f"gunicorn, 2 sync workers; `wrk -t1 -c{run['connections']} -d{run['duration']}s` on "
            f"loopback; {run['rounds']} rounds.",
            "",
            *per_request_table(run, with_rps=True),
            "",
        ]
    for db, run in results["inprocess"].items():
        lines += [
            f"## In process, {DB_NAMES[db]}",
            "",
            f"`django.test.Client` GETs, {cfg['inproc_requests']} per scheme per round, "
            f"{cfg['inproc_rounds']} rounds.",
            "",
            *per_request_table(run, with_rps=False),
            "",
        ]
    lines += [
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
    lines += [
        "",
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
        for r in rev["logout_all"]:
            cmds = ", ".join(f"{k} {v}" for k, v in sorted(r["redis_commands"].items()))
            lines.append(
                f"| {DB_NAMES[db]} | {r['devices']:,} | {r['seconds'] * 1e3:.1f} | "
                f"{r['sql_statements']} | {r['redis_round_trips']} | "
                f"{r['redis_server_calls']} ({cmds}) | {r['devices_marked_revoked']:,} |"
            )
        kinds = rev["logout_all"][-1]["sql_kinds"]
        notes.append(f"Statements ({DB_NAMES[db]}): {', '.join(kinds)}.")
    lines += [
        "",
        *notes,
        "",
        "The one `UPDATE` of devices touches more rows as devices grow (it "
        "marks them for the device list); the number of statements and of Redis writes "
        "does not change.",
        "",
    ]
    for rev in results["revocation"].values():
        if "memory" not in rev:
            continue
        mem, d = rev["memory"], rev["denylist"]
        lines += [
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
    lines += costs_section(results)
    lines += propagation_section(results)
    lines += where_time_goes(results, found)
    lines += [
        "## Method",
        "",
        "- One command runs everything: fresh databases (SQLite file under /tmp; PostgreSQL "
        "database `bench`, dropped and recreated), migrations, one user with one credential per "
        "scheme, then the phases above. Redis database 14 only (flushed before and after).",
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
        "- End to end: three gunicorn servers (the Redis store, the same with the verdict "
        "cache, the database store; 2 sync workers each) "
        "run side by side, only one loaded at a time; wrk shares the machine's CPUs with them, "
        "with PostgreSQL and with Redis, as a single-box deployment would.",
        "",
    ]
    (out / "results.md").write_text("\n".join(lines))
    chart(results, out / "results.png")


def where_time_goes(results: dict[str, Any], found: list[dict[str, Any]]) -> list[str]:
    prof = results.get("profile")
    if not prof:
        return []
    missed = [t for t in found if not t["met"]]
    lines = ["## Where the time goes", ""]
    if missed:
        lines += [
            "Missed (see Targets for where): "
            + "; ".join(dict.fromkeys(t["target"] for t in missed))
            + ".",
            "",
        ]
    lines += [
        f"Microseconds per call outside the request cycle ({DB_NAMES[prof['db']]}):",
        "",
        "| scheme | step | µs |",
        "|---|---|---|",
    ]
    for scheme, steps in prof["breakdown_us"].items():
        for step, value in steps.items():
            lines.append(f"| {scheme} | {step} | {value:,.1f} |")
    split = prof["split_us"]
    lines += [
        "",
        "The store's round trip versus the Python around it:",
        "",
        "| call | µs |",
        "|---|---|",
        *[f"| {k} | {v:,.1f} |" for k, v in split.items()],
        "",
    ]
    db_orm = split["database get_state"] - split["database: the same SQL through a raw cursor"]
    raw_read = split["redis: the same EVALSHA on a raw client"]
    redis_extra = split["redis get_state"] - raw_read
    bd = prof["breakdown_us"]
    decode = bd["authtokens-redis"]["tokens.decode (parse, verify HS256, claims)"]
    bare = bd["reference"]["bare jwt.decode HS256 (PyJWT)"]
    simple = bd["simplejwt"]["get_validated_token (PyJWT decode, HS256)"]
    lines += [
        f"- **Database store**: of {split['database get_state']:,.0f} µs per check, the SQL "
        "itself, replayed through a raw cursor, takes "
        f"{split['database: the same SQL through a raw cursor']:,.0f} µs; the other "
        f"{db_orm:,.0f} µs ({db_orm / split['database get_state']:.0%}) is Python around it "
        "(building the query, the cursor, turning the row into a state): see the profile "
        "below for which.",
        f"- **Redis store**: `get_state` takes {split['redis get_state']:,.0f} µs, the same "
        "EVALSHA on a raw client "
        f"{raw_read:,.0f} µs, one plain GET {split['redis: one plain GET on a raw client']:,.0f} "
        f"µs: the store's own Python adds {max(redis_extra, 0):,.0f} µs (within noise when "
        "~0); the loopback round trip is the cost. "
        "It is what separates authtokens + Redis from simplejwt stateless, which checks "
        "nothing.",
        f"- **Decode**: authtokens' `tokens.decode` takes {decode:,.0f} µs against {bare:,.0f} µs "
        f"for a bare PyJWT HS256 decode and {simple:,.0f} µs for simplejwt's "
        "`get_validated_token`. authtokens verifies the JWS itself (HMAC in C, the header "
        "parsed once per key, the claims once) and applies its own header and claim rules; "
        "PyJWT checks every base64 character in Python and prepares the key on each call "
        "(profile below).",
        '- **Per request**: in process these steps make up the "auth cost over floor"; end '
        "to end the workers share two CPUs with wrk, Redis and PostgreSQL, so every round trip "
        "costs CPU on both sides of the socket.",
        "",
        *memory_notes(results),
        "pyinstrument, inside `authenticate_token` (share of its time; call paths merged):",
        "",
    ]
    for p in prof["profiles"]:
        lines += [
            f"{p['store']} store, {p['us_per_call_under_profiler']:,.0f} µs per call under "
            "the profiler:",
            "",
            "```",
            *p["tree"],
            "```",
            "",
        ]
    return lines


def memory_notes(results: dict[str, Any]) -> list[str]:
    mem = next((r["memory"] for r in results["revocation"].values() if "memory" in r), None)
    if not mem or mem["ours_bytes_per_token"] <= 64:
        return []  # met: nothing to explain
    per, usage, key = (
        mem["ours_bytes_per_token"],
        mem["ours_memory_usage_one_key"],
        mem["key_length"],
    )
    return [
        f"- **Redis memory** ({per:.0f} bytes per revoked token against a target of 64): "
        f"`MEMORY USAGE` puts one entry at {usage} bytes, of which the key string is {key} "
        "bytes plus its header; the rest of the used_memory delta is Redis' per-key "
        "bookkeeping: the main dictionary entry and the expires dictionary entry (a TTL "
        "costs a second entry), their bucket pointers, allocator rounding. The value `1` is a "
        "shared integer and costs nothing. A shorter key helps little: `t:` + 16 raw bytes "
        f"measured {mem.get('short_binary_key_bytes_per_token', float('nan')):.0f} bytes "
        "(table above). One Redis key per revoked token with its own TTL cannot reach 64 "
        "bytes on this Redis; another layout can, for example the jtis that expire in the "
        "same minute as fields of one small hash (listpack-encoded) that expires as a whole.",
        "",
    ]


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 9))
    names = list(SCHEMES)
    for ax, kind, title in (
        (axes[0][0], "e2e", "End to end (gunicorn + wrk)"),
        (axes[0][1], "inprocess", "In process (django.test.Client)"),
    ):
        dbs = list(results[kind])
        width = 0.8 / max(1, len(dbs))
        for i, db in enumerate(dbs):
            m = medians(results[kind][db]["requests"])
            xs = [j + i * width for j in range(len(names))]
            bars = ax.bar(xs, [m[n] * 1e6 for n in names], width, label=DB_NAMES[db])
            ax.bar_label(bars, fmt="%.0f", fontsize=7)
        ax.set_xticks([j + width * (len(dbs) - 1) / 2 for j in range(len(names))])
        ax.set_xticklabels(names, rotation=25, ha="right", fontsize=8)
        ax.set_ylabel("µs per request (median, lower is better)")
        ax.set_title(title)
        ax.legend()
    ax = axes[1][0]
    for db, rev in results["revocation"].items():
        rows = rev["logout_all"]
        ax.plot(
            [r["devices"] for r in rows],
            [r["seconds"] * 1e3 for r in rows],
            "o-",
            label=f"{DB_NAMES[db]}: ms",
        )
        ax.plot(
            [r["devices"] for r in rows],
            [r["redis_round_trips"] for r in rows],
            "s--",
            label=f"{DB_NAMES[db]}: Redis round trips",
        )
        ax.plot(
            [r["devices"] for r in rows],
            [r["sql_statements"] for r in rows],
            "^:",
            label=f"{DB_NAMES[db]}: SQL statements",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("devices signed out")
    ax.set_title("Logout-all")
    ax.legend(fontsize=7)
    ax = axes[1][1]
    for rev in results["revocation"].values():
        if "denylist" in rev:
            d, mem = rev["denylist"], rev["memory"]
            labels = ["empty", f"{d['entries']:,} entries"]
            values = [median(d[k]) * 1e6 for k in ("empty", "full")]
            bars = ax.bar(labels, values, color="tab:green")
            ax.bar_label(bars, fmt="%.0f")
            ax.set_ylabel("µs per request, authtokens + Redis")
            ax.set_title(
                f"Denylist size · Redis bytes/revoked token: "
                f"{mem['ours_bytes_per_token']:.0f} (whole-JWT key: "
                f"{mem['naive_bytes_per_token']:.0f})",
                fontsize=9,
            )
    fig.suptitle(
        f"authtokens vs peers · {results['machine']['nproc']} CPUs "
        f"{results['machine']['cpu']} · {results['machine']['date']}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
