"""The report's "Where the time goes": step timings, the store's share, the profiles."""

from __future__ import annotations

from typing import Any

from .tables import DB_NAMES


def where_time_goes(results: dict[str, Any], found: list[dict[str, Any]]) -> list[str]:
    prof = results.get("profile")
    if not prof:
        return []
    return [
        "## Where the time goes",
        "",
        *_missed(found),
        *_tables(prof),
        *_store_findings(prof["split_us"]),
        *_decode_findings(prof["breakdown_us"]),
        *memory_notes(results),
        "pyinstrument, inside `authenticate_token` (share of its time; call paths merged):",
        "",
        *_profiles(prof),
    ]


def _missed(found: list[dict[str, Any]]) -> list[str]:
    missed = [t for t in found if not t["met"]]
    if not missed:
        return []
    return [
        "Missed (see Targets for where): "
        + "; ".join(dict.fromkeys(t["target"] for t in missed))
        + ".",
        "",
    ]


def _tables(prof: dict[str, Any]) -> list[str]:
    lines = [
        f"Microseconds per call outside the request cycle ({DB_NAMES[prof['db']]}):",
        "",
        "| scheme | step | µs |",
        "|---|---|---|",
    ]
    for scheme, steps in prof["breakdown_us"].items():
        for step, value in steps.items():
            lines.append(f"| {scheme} | {step} | {value:,.1f} |")
    return [
        *lines,
        "",
        "The store's round trip versus the Python around it:",
        "",
        "| call | µs |",
        "|---|---|",
        *[f"| {k} | {v:,.1f} |" for k, v in prof["split_us"].items()],
        "",
    ]


def _store_findings(split: dict[str, float]) -> list[str]:
    db_orm = split["database get_state"] - split["database: the same SQL through a raw cursor"]
    raw_read = split["redis: the same EVALSHA on a raw client"]
    redis_extra = split["redis get_state"] - raw_read
    return [
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
    ]


def _decode_findings(bd: dict[str, dict[str, float]]) -> list[str]:
    decode = bd["authtokens-redis"]["tokens.decode (parse, verify HS256, claims)"]
    bare = bd["reference"]["bare jwt.decode HS256 (PyJWT)"]
    simple = bd["simplejwt"]["get_validated_token (PyJWT decode, HS256)"]
    return [
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
    ]


def _profiles(prof: dict[str, Any]) -> list[str]:
    lines = []
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
