"""Run every benchmark in one go and write benchmarks/results/ (see benchmarks/README.md).

python -m benchmarks            # the full run (under 10 minutes on 2 cores)
python -m benchmarks --quick    # a smoke test (under a minute)
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import IO

from . import cluster, e2e, prepare, report
from .common import INSTANCE, ROOT, SCHEMES, flush, redis_client, run_worker

FULL = {
    "dbs": "sqlite,postgres",
    "rounds": 8,
    "duration": 2,
    "connections": 4,
    "warmup": 1,
    "inproc_rounds": 14,
    "inproc_requests": 200,
    "refresh_rounds": 5,
    "refreshes": 100,
    "devices": "1,100,10000",
    "reps": 3,
    "memory_n": 100_000,
    "denylist_n": 1_000_000,
    "denylist_rounds": 2,
    "denylist_requests": 300,
    "denylist_cycles": 3,
    "profile_n": 300,
    "profile_calls": 1500,
    "propagation_trials": 40,
    "cluster_users": 10_000,
}
QUICK = {
    **FULL,
    "rounds": 1,
    "duration": 1,
    "warmup": 0,
    "inproc_rounds": 2,
    "inproc_requests": 50,
    "refresh_rounds": 2,
    "refreshes": 10,
    "devices": "1,100,1000",
    "reps": 1,
    "memory_n": 5000,
    "denylist_n": 20000,
    "denylist_rounds": 1,
    "denylist_requests": 50,
    "denylist_cycles": 1,
    "profile_n": 30,
    "profile_calls": 100,
    "propagation_trials": 5,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument(
        "--out",
        default=str(ROOT / "benchmarks" / "results"),
        help="directory of results.md, results.png, results.json",
    )
    _add_sizes(parser)
    parser.add_argument("--skip-e2e", action="store_true", help="in-process figures only")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite results.md/png from results.json"
    )
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _add_sizes(parser: argparse.ArgumentParser) -> None:
    """The flags of FULL's keys: each left unset takes FULL's value, or QUICK's with --quick."""
    parser.add_argument("--dbs", help="comma-separated: sqlite,postgres")
    parser.add_argument("--rounds", type=int, help="end-to-end rounds (every scheme per round)")
    parser.add_argument("--duration", type=int, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, help="wrk connections")
    parser.add_argument(
        "--warmup", type=int, help="seconds of wrk warm-up per scheme (0: a few requests)"
    )
    parser.add_argument("--inproc-rounds", type=int)
    parser.add_argument("--inproc-requests", type=int, help="requests per scheme per round")
    parser.add_argument("--refresh-rounds", type=int)
    parser.add_argument("--refreshes", type=int, help="refreshes per library per round")
    parser.add_argument("--devices", help="logout-all sizes, comma-separated")
    parser.add_argument("--reps", type=int, help="logout-all repetitions per size")
    parser.add_argument("--memory-n", type=int, help="revocations for the Redis memory figure")
    parser.add_argument("--denylist-n", type=int, help="live denylist entries")
    parser.add_argument("--denylist-rounds", type=int)
    parser.add_argument("--denylist-requests", type=int)
    parser.add_argument("--denylist-cycles", type=int, help="empty/full alternations")
    parser.add_argument("--profile-n", type=int)
    parser.add_argument("--profile-calls", type=int)
    parser.add_argument("--propagation-trials", type=int, help="revocations timed to 3 workers")
    parser.add_argument("--cluster-users", type=int, help="users spread over the cluster")


def preflight(args: argparse.Namespace) -> None:
    if not args.skip_e2e and shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (or pass --skip-e2e)")
    redis_client().ping()


def log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.report_only:
        out = Path(args.out)
        report.write(json.loads((out / "results.json").read_text()), out)
        return 0
    started = time.monotonic()
    _lock = _hold_lock()  # referenced until main returns: the lock is held until then
    preflight(args)
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so that the finally blocks stop the
    # cluster and the servers; only SIGKILL can leave them behind.
    signal.signal(signal.SIGTERM, _terminated)
    load_before = os.getloadavg()
    log("Redis Cluster: starting 3 masters + 3 replicas", started)
    with cluster.running() as topology:  # stopped, every process of it, whatever happens
        results = measure(args, topology, started)
    results["wall_seconds"] = time.monotonic() - started
    results["load"] = {"before": load_before, "after": os.getloadavg()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    report.write(results, out)
    log(f"wrote {out / 'results.md'} and {out / 'results.png'}", started)
    return 0


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def measure(args: argparse.Namespace, topology: object, started: float) -> dict:
    """Every phase, in order; the Redis-only figures once, on the last database."""
    dbs = [db for db in args.dbs.split(",") if db]
    flush(redis_client())  # database 14 only: the benchmark's own
    results: dict = {"config": vars(args), "e2e": {}, "inprocess": {}, "revocation": {}}
    for db in dbs:
        per_request(args, db, results, started, topology)
    for i, db in enumerate(reversed(dbs)):
        log(f"{db}: revocation figures", started)
        extra = [] if i == 0 else ["--skip-redis"]
        results["revocation"][db] = run_worker("revocation", _revocation_args(args, db, extra), db)
    last_database(args, dbs[-1], results, started)
    flush(redis_client())
    return results


def _hold_lock() -> IO[str]:
    """One run at a time: runs share the `bench` database, the SQLite file, ports 8711-8715
    and Redis DB 14, and two at once break each other (and their figures)."""
    lock = open(f"/tmp/authtokens-bench{INSTANCE}.lock", "w")  # noqa: SIM115 (held until exit)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit("Another benchmark run holds /tmp/authtokens-bench.lock; wait for it.")
    return lock


def per_request(
    args: argparse.Namespace, db: str, results: dict, started: float, topology: object
) -> None:
    """A fresh ``db`` and the cluster's mirror of it, then its end-to-end and in-process
    figures."""
    log(f"{db}: fresh database, migrations", started)
    prepare.recreate(db)
    creds = run_worker("fixtures", [], db)
    cluster.empty(topology)
    rebuilt = run_worker("cluster", ["rebuild", "--db", db], db, "redis-cluster")
    log(f"{db}: cluster mirror rebuilt in {rebuilt['seconds']:.1f} s", started)
    if not args.skip_e2e:
        log(
            f"{db}: end to end, {args.rounds} rounds x {len(SCHEMES)} schemes x {args.duration}s",
            started,
        )
        results["e2e"][db] = e2e.run(
            db, creds, args.rounds, args.duration, args.connections, args.warmup
        )
    log(f"{db}: in process", started)
    results["inprocess"][db] = run_worker(
        "inprocess",
        ["--db", db, "--rounds", str(args.inproc_rounds), "--requests", str(args.inproc_requests)]
        + ["--refresh-rounds", str(args.refresh_rounds), "--refreshes", str(args.refreshes)],
        db,
    )


def _revocation_args(args: argparse.Namespace, db: str, extra: list[str]) -> list[str]:
    return [
        *("--db", db, "--devices", args.devices, "--reps", str(args.reps)),
        *("--memory-n", str(args.memory_n), "--denylist-n", str(args.denylist_n)),
        *("--rounds", str(args.denylist_rounds), "--requests", str(args.denylist_requests)),
        *("--cycles", str(args.denylist_cycles)),
        *extra,
    ]


def last_database(args: argparse.Namespace, db: str, results: dict, started: float) -> None:
    """The figures taken once, on the last database: propagation, then the profile."""
    log(f"{db}: propagation to 3 workers", started)
    results["propagation"] = run_worker(
        "propagation", ["--db", db, "--trials", str(args.propagation_trials)], db
    )
    log(f"{db}: profile of the hot path", started)
    results["profile"] = run_worker(
        "profile", ["--db", db, "--n", str(args.profile_n), "--calls", str(args.profile_calls)], db
    )
    log(f"{db}: Redis Cluster, memory per revoked token and spread over the masters", started)
    results["cluster"] = run_worker(
        "cluster",
        ["figures", "--db", db, "--memory-n", str(args.memory_n)]
        + ["--users", str(args.cluster_users)],
        db,
        "redis-cluster",
    )


if __name__ == "__main__":
    sys.exit(main())
