"""results.png: time per request (end to end, in process), logout-all, the full denylist."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..common import SCHEMES, median
from .tables import DB_NAMES, medians


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 9))
    _per_request(axes[0][0], results["e2e"], "End to end (gunicorn + wrk)")
    _per_request(axes[0][1], results["inprocess"], "In process (django.test.Client)")
    _logout_all(axes[1][0], results["revocation"])
    _denylist(axes[1][1], results["revocation"])
    fig.suptitle(
        f"authtokens vs peers · {results['machine']['nproc']} CPUs "
        f"{results['machine']['cpu']} · {results['machine']['date']}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _per_request(ax: Any, runs: dict[str, Any], title: str) -> None:
    dbs = list(runs)
    # A results.json from before a scheme existed (--report-only) has no figure for it.
    names = [n for n in SCHEMES if all(n in runs[db]["requests"] for db in dbs)]
    width = 0.8 / max(1, len(dbs))
    for i, db in enumerate(dbs):
        m = medians(runs[db]["requests"])
        xs = [j + i * width for j in range(len(names))]
        bars = ax.bar(xs, [m[n] * 1e6 for n in names], width, label=DB_NAMES[db])
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks([j + width * (len(dbs) - 1) / 2 for j in range(len(names))])
    ax.set_xticklabels(names, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("µs per request (median, lower is better)")
    ax.set_title(title)
    ax.legend()


def _logout_all(ax: Any, revocation: dict[str, Any]) -> None:
    for db, rev in revocation.items():
        rows = rev["logout_all"]
        devices = [r["devices"] for r in rows]
        ax.plot(devices, [r["seconds"] * 1e3 for r in rows], "o-", label=f"{DB_NAMES[db]}: ms")
        ax.plot(
            devices,
            [r["redis_round_trips"] for r in rows],
            "s--",
            label=f"{DB_NAMES[db]}: Redis round trips",
        )
        ax.plot(
            devices,
            [r["sql_statements"] for r in rows],
            "^:",
            label=f"{DB_NAMES[db]}: SQL statements",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("devices signed out")
    ax.set_title("Logout-all")
    ax.legend(fontsize=7)


def _denylist(ax: Any, revocation: dict[str, Any]) -> None:
    for rev in revocation.values():
        if "denylist" not in rev:
            continue
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
