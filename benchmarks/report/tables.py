"""The helpers every part of the report uses, and the per-request tables."""

from __future__ import annotations

from typing import Any

from ..common import LABELS, SCHEMES, median, spread

DB_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f}"


def medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {name: median(values) for name, values in samples.items()}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def per_request_table(run: dict[str, Any], with_rps: bool) -> list[str]:
    m = medians(run["requests"])
    floor = m["floor"]
    head = (
        "| scheme | "
        + ("req/s | " if with_rps else "")
        + ("µs / request | × floor | auth cost over floor (µs) | × simplejwt | × knox | spread ± |")
    )
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for name in (n for n in SCHEMES if n in m):  # an older results.json lacks newer schemes
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


def per_request_sections(results: dict[str, Any]) -> list[str]:
    """End to end, then in process: one section per database."""
    lines = []
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
    return lines
