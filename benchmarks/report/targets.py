"""Every target of the issue, measured (``targets``), and its row in the Targets table."""

from __future__ import annotations

from typing import Any

from ..common import median
from .tables import DB_NAMES, medians, us

# (title, our scheme, the peer, the limit of the ratio ours / peer of time per request)
RATIO_SPECS = [
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


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue, measured: ratios of time per request from one run."""
    found = []
    for kind in ("e2e", "inprocess"):
        for db, run in results[kind].items():
            found += [ratio_target(kind, db, run, spec) for spec in RATIO_SPECS]
    found += propagation_targets(results)
    for db, rev in results["revocation"].items():
        found.append(logout_all_target(db, rev["logout_all"]))
        if "memory" in rev:
            found.append(memory_target(db, rev["memory"]))
        if "denylist" in rev:
            found.append(denylist_target(db, rev["denylist"]))
    return found


def ratio_target(
    kind: str, db: str, run: dict[str, Any], spec: tuple[str, str, str, float]
) -> dict[str, Any]:
    title, ours, peer, limit = spec
    m = medians(run["requests"])
    floor = m["floor"]
    ratio = m[ours] / m[peer]
    rounds = [a / b for a, b in zip(run["requests"][ours], run["requests"][peer], strict=True)]
    # Above the floor; meaningless when the peer costs about nothing above it.
    peer_cost = m[peer] - floor
    over = (m[ours] - floor) / peer_cost if peer_cost > 0.1 * floor else None
    return {
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


def logout_all_target(db: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    trips = {r["redis_round_trips"] for r in rows}
    sql = {r["sql_statements"] for r in rows}
    return {
        "target": "logout-all: O(1) Redis writes, bounded SQL",
        "where": DB_NAMES[db],
        "kind": "revocation",
        "db": db,
        "value": f"Redis round trips {sorted(trips)}, SQL statements {sorted(sql)} for "
        f"{', '.join(str(r['devices']) for r in rows)} devices",
        "met": len(trips) == 1 and len(sql) == 1 and max(trips) <= 1,
    }


def memory_target(db: str, mem: dict[str, Any]) -> dict[str, Any]:
    return {
        "target": "Redis memory ≤ 64 bytes per revoked token",
        "where": f"Redis {mem['redis_version']}",
        "kind": "memory",
        "db": db,
        "value": f"{mem['ours_bytes_per_token']:.0f} bytes (used_memory delta over "
        f"{mem['n']:,}); MEMORY USAGE of one key: {mem['ours_memory_usage_one_key']}",
        "met": mem["ours_bytes_per_token"] <= 64,
    }


def denylist_target(db: str, d: dict[str, Any]) -> dict[str, Any]:
    empty = d["empty"]
    change = median(d["full"]) / median(empty) - 1
    per = len(d["full"]) // d["cycles"]
    cycles = [
        median(d["full"][i * per : (i + 1) * per]) / median(d["empty"][i * per : (i + 1) * per])
        for i in range(d["cycles"])
    ]
    return {
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


def target_row(t: dict[str, Any]) -> str:
    """One row of the Targets table: | target | where | measured | verdict |."""
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
