"""How long a revocation takes to reach every worker: gunicorn with 3 workers, the Redis store.

Each trial signs a token in, has every worker accept it, then keeps three pollers requesting
it while the revocation is sent. For each worker, the first refusal it answers is when the
revocation reached it; the trial's propagation is the latest of the three, from the moment
the revocation was sent. Any acceptance of a request sent after the revocation's response is
counted: the promise is that there are none. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from .common import PORT, PYTHON, ROOT, env_for, setup_django

WORKERS = 3
URL = f"http://127.0.0.1:{PORT + 2}"


def worker_pid(get_response: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Middleware: name the worker that served each response (X-Worker-Pid)."""

    def middleware(request: Any) -> Any:
        response = get_response(request)
        response["X-Worker-Pid"] = str(os.getpid())
        return response

    return middleware


def call(method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, str]:
    """Return (status, worker pid)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(URL + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  loopback
            response.read()
            return response.status, response.headers.get("X-Worker-Pid", "")
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, error.headers.get("X-Worker-Pid", "")


def sign_in() -> str:
    body = {"username": "bench", "password": "bench-password-123"}
    request = urllib.request.Request(
        URL + "/api/token/", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  loopback
        return json.loads(response.read())["access"]


def poll(token: str, stop: threading.Event, seen: list[tuple[float, float, str, int]]) -> None:
    while not stop.is_set():
        sent = time.perf_counter()
        status, pid = call("GET", "/b/authtokens/", token)
        seen.append((sent, time.perf_counter(), pid, status))


def trial() -> dict[str, Any]:
    token = sign_in()
    stop, seen = threading.Event(), []  # type: ignore[var-annotated]
    pollers = [threading.Thread(target=poll, args=(token, stop, seen)) for _ in range(WORKERS)]
    for thread in pollers:
        thread.start()
    deadline = time.monotonic() + 10
    while len({pid for _, _, pid, status in seen if status == 200}) < WORKERS:
        if time.monotonic() > deadline:
            raise RuntimeError("not every worker accepted the token before the revocation")
        time.sleep(0.005)
    sent = time.perf_counter()
    status, _ = call("POST", "/api/token/revoke/", token, {"token": token})
    answered = time.perf_counter()
    assert status == 200, status
    while True:
        refused = {pid: at for _, at, pid, s in sorted(seen, key=lambda x: x[1]) if s == 401}
        if len(refused) == WORKERS or time.monotonic() > deadline + 10:
            break
        time.sleep(0.005)
    stop.set()
    for thread in pollers:
        thread.join()
    first_refusal = {}
    for _, at, pid, s in seen:
        if s == 401 and at >= sent:
            first_refusal[pid] = min(at, first_refusal.get(pid, at))
    return {
        "revoke_seconds": answered - sent,
        "every_worker_seconds": max(first_refusal.values()) - sent,
        "workers_refusing": len(first_refusal),
        "accepted_after_response": sum(1 for s0, _, _, s in seen if s0 > answered and s == 200),
        "requests_after_response": sum(1 for s0, _, _, _ in seen if s0 > answered),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args()
    setup_django(args.db)
    from benchmarks.fixtures import credentials

    credentials()  # the bench user, with its password
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "benchmarks.wsgi:application", "--workers", str(WORKERS)]
        + ["--bind", URL.removeprefix("http://"), "--log-level", "warning"],
        cwd=ROOT,
        env={**env_for(args.db, "redis"), "BENCH_WORKER_PID": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                call("GET", "/b/floor/")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not come up") from None
                time.sleep(0.2)
        trials = [trial() for _ in range(args.trials)]
    finally:
        server.terminate()
        server.wait(timeout=15)
    json.dump({"db": args.db, "workers": WORKERS, "trials": trials}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
