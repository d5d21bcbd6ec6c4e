"""The report's Redis Cluster section: the cost per request against the single-node store and
simplejwt stateless, memory per revoked token, and the share of each master."""

from __future__ import annotations

from typing import Any

from .tables import DB_NAMES, medians, us

CLUSTER, SINGLE, STATELESS = "authtokens-cluster", "authtokens-redis", "simplejwt-stateless"


def _ratio(run: dict[str, Any], ours: str, peer: str) -> str:
    """Ratio of medians, with the lowest and highest ratio within one round."""
    m = medians(run["requests"])
    rounds = [a / b for a, b in zip(run["requests"][ours], run["requests"][peer], strict=True)]
    return f"**{m[ours] / m[peer]:.2f} ×** ({min(rounds):.2f}–{max(rounds):.2f})"


def _per_request_rows(results: dict[str, Any]) -> list[str]:
    rows = []
    for kind, where in (("e2e", "end to end"), ("inprocess", "in process")):
        for db, run in results.get(kind, {}).items():
            if CLUSTER not in run["requests"]:
                continue
            m = medians(run["requests"])
            rows.append(
                f"| {where}, {DB_NAMES[db]} | {us(m[CLUSTER])} | {us(m[SINGLE])} | "
                f"{_ratio(run, CLUSTER, SINGLE)} | {_ratio(run, CLUSTER, STATELESS)} | "
                f"{us(m[CLUSTER] - m[SINGLE])} |"
            )
    return rows


def _memory_rows(results: dict[str, Any], mem: dict[str, Any]) -> list[str]:
    single = next(
        (rev["memory"] for rev in results["revocation"].values() if "memory" in rev), None
    )
    rows = [
        f"| Redis Cluster, 3 masters (sum of their deltas) | {mem['bytes_per_token']:.0f} | "
        f"`{mem['key_example']}` |"
    ]
    if single is not None:
        rows.append(
            f"| one node (the section above) | {single['ours_bytes_per_token']:.0f} | "
            f"`{single['key_example']}` |"
        )
    return rows


def _per_hash(mem: dict[str, Any]) -> str:
    keys = sum(m["keys"] for m in mem["per_master"].values())
    return f"{mem['n'] / keys:.1f} per hash, {keys:,} hashes" if keys else "no hash"


def _master_rows(found: dict[str, Any]) -> list[str]:
    spread, mem = found["spread"], found["memory"]
    total_delta = sum(m["used_memory_delta"] for m in mem["per_master"].values()) or 1
    rows = []
    for name, share in spread["per_master"].items():
        written = mem["per_master"].get(name, {})
        delta = written.get("used_memory_delta", 0)
        rows.append(
            f"| {name} | {share['groups']} | {share['users']:,} "
            f"({share['users'] / spread['users']:.1%}) | {written.get('revocations', 0):,} | "
            f"{written.get('keys', 0):,} | {delta / 1e6:.2f} ({delta / total_delta:.1%}) |"
        )
    return rows


def cluster_section(results: dict[str, Any]) -> list[str]:
    found = results.get("cluster")
    if not found:  # a results.json from before the cluster was measured
        return []
    mem, spread = found["memory"], found["spread"]
    return [
        "## Redis Cluster (3 masters, 1 replica each)",
        "",
        "The Redis store on a Redis Cluster started for the run (tests/redis_topologies.py), "
        "its mirror rebuilt before the measures; a check is one `EVALSHA` on the master of the "
        "user's group. Ratios of medians, with the lowest and highest ratio within one round.",
        "",
        "| where | cluster µs | one-node Redis µs | cluster ÷ one-node Redis store | "
        "cluster ÷ simplejwt stateless | cluster − one node (µs) |",
        "|---|---|---|---|---|---|",
        *_per_request_rows(results),
        "",
        f"Redis bytes per revoked token: `used_memory` delta over {mem['n']:,} revocations "
        f"of tokens of {mem['users']:,} users (one hour of expiry), written by the store's "
        "own write to the master of each user's group (the key shape checked against one real "
        "`token_revoked`). Buckets are per hour of expiry and jti: its first two letters on "
        "one node (64 × 64 = 4,096 an hour), 16 per group on the cluster (256 × 16 = 4,096 "
        f"an hour), so a hash holds as many revocations on both ({_per_hash(mem)} here on "
        "the cluster).",
        "",
        "| layout | bytes per revoked token | key one revocation writes |",
        "|---|---|---|",
        *_memory_rows(results, mem),
        "",
        f"Spread: {spread['users']:,} users (ids 1–{spread['users']:,}) over "
        f"{spread['groups']} groups, and the revocations above, by master.",
        "",
        "| master | groups | users (share) | revocations | keys (hashes) | "
        "used_memory delta, MB (share) |",
        "|---|---|---|---|---|---|",
        *_master_rows(found),
        "",
    ]
