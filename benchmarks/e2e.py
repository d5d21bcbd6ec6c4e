"""End to end: gunicorn (2 sync workers) and wrk on loopback, every scheme, interleaved.

Four servers run side by side, one per authtokens store (BENCH_STORE: the Redis store, the
same with the verdict cache on, the database store, the Redis store on the Redis Cluster);
every other scheme is served by the Redis one (their views do not touch the store). Only one
is loaded at a time: the idle ones cost memory, not CPU, even on 2 cores.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from typing import Any

from .common import PORT, PYTHON, ROOT, SCHEMES, STORE_OF, env_for

# + 2: propagation
PORTS = {"redis": PORT, "database": PORT + 1, "redis-cached": PORT + 3, "redis-cluster": PORT + 4}
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def start_servers(db: str) -> list[subprocess.Popen]:
    servers = []
    for store, port in PORTS.items():
        servers.append(
            subprocess.Popen(
                [
                    PYTHON,  # the harness's own interpreter: its venv, its gunicorn
                    "-m",
                    "gunicorn",
                    "benchmarks.wsgi:application",
                    "--workers",
                    "2",
                    "--worker-class",
                    "sync",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env_for(db, store),
            )
        )
    deadline = time.monotonic() + 30
    for port in PORTS.values():
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/b/floor/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    stop_servers(servers)
                    raise RuntimeError("gunicorn did not come up") from None
                time.sleep(0.2)
    return servers


def stop_servers(servers: list[subprocess.Popen]) -> None:
    for server in servers:
        server.terminate()  # the master stops its own workers
    for server in servers:
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _touch(url: str, headers: dict[str, str], n: int) -> None:
    for _ in range(n):
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, headers: dict[str, str], duration: float, connections: int) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = re.search(r"Latency\s+(\S+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if bad or rps == 0:
        raise RuntimeError(f"wrk {url}: failed requests\n{out}")
    return {
        "rps": rps,
        "seconds_per_request": 1.0 / rps,
        "latency_avg": _seconds(latency.group(1)) if latency else None,
        "socket_errors": errors.group(0) if errors else "",
    }


def run(
    db: str,
    creds: dict[str, dict[str, str]],
    rounds: int,
    duration: float,
    connections: int = 4,
    warmup: float = 1,
) -> dict[str, Any]:
    names = list(SCHEMES)
    urls = {
        name: f"http://127.0.0.1:{PORTS[STORE_OF.get(name, 'redis')]}{SCHEMES[name]}"
        for name in names
    }
    servers = start_servers(db)
    try:
        for name in names:  # every worker imports, connects, and the Redis mirror warms up
            if warmup > 0:
                wrk(urls[name], creds[name], warmup, connections)
            else:
                _touch(urls[name], creds[name], 20)
        samples: dict[str, list[float]] = {name: [] for name in names}
        latency: dict[str, list[float]] = {name: [] for name in names}
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                result = wrk(urls[name], creds[name], duration, connections)
                samples[name].append(result["seconds_per_request"])
                if result["latency_avg"] is not None:
                    latency[name].append(result["latency_avg"])
    finally:
        stop_servers(servers)
    return {
        "db": db,
        "rounds": rounds,
        "duration": duration,
        "connections": connections,
        "requests": samples,
        "latency": latency,
    }
