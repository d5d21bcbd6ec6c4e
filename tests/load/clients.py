"""The load test's clients: one thread per person, every call counted in one Tally."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

PASSWORD = "load-test-password"  # noqa: S105


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    by_action: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    revoked_accepted: int = 0
    revoked_checks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _send(request: urllib.request.Request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310  loopback
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError as error:
        return 0, str(error).encode()


def call(
    base: str,
    tally: Tally,
    action: str,
    method: str,
    path: str,
    token: str | None = None,
    body: dict | None = None,
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    started = time.perf_counter()
    status, raw = _send(request)
    elapsed = time.perf_counter() - started
    with tally.lock:
        tally.latencies.append(elapsed)
        tally.by_action[action] = tally.by_action.get(action, 0) + 1
        if status == 0 or status >= 500:
            tally.errors.append(f"{action} {status}")
    try:
        return status, json.loads(raw) if raw else {}
    except ValueError:
        return status, {}


class Client(threading.Thread):
    """One person: signs in on a web or native device and works until the time is up."""

    def __init__(
        self, base: str, username: str, tally: Tally, revoked: list[str], deadline: float, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.username, self.tally = base, username, tally
        self.revoked, self.deadline, self.random = revoked, deadline, random.Random(seed)

    def sign_in(self) -> dict:
        native = self.random.random() < 0.5
        body = {"username": self.username, "password": PASSWORD}
        if native:
            body |= {"client": "native", "audience": "Android-App"}
        status, answer = call(self.base, self.tally, "sign_in", "POST", "/api/token/", body=body)
        return answer if status == 200 else {}

    def expect_refused(self, token: str) -> None:
        status, _ = call(self.base, self.tally, "replay", "GET", "/api/me/", token)
        with self.tally.lock:
            self.tally.revoked_checks += 1
            if status == 200:
                self.tally.revoked_accepted += 1

    def run(self) -> None:
        session = self.sign_in()
        while time.monotonic() < self.deadline:
            session = self.step(session) if session else self.sign_in()

    def step(self, session: dict) -> dict:
        """One action of a signed-in person; the session it leaves ({} once revoked)."""
        roll = self.random.random()
        if roll < 0.70:
            call(self.base, self.tally, "use", "GET", "/api/me/", session["access"])
        elif roll < 0.80 and "refresh" not in session:
            status, answer = call(
                self.base, self.tally, "extend", "POST", "/api/token/extend/", session["access"]
            )
            if status == 200:
                return answer
        elif roll < 0.80:
            status, answer = call(
                self.base,
                self.tally,
                "refresh",
                "POST",
                "/api/token/refresh/",
                body={"refresh": session["refresh"]},
            )
            if status == 200:
                return answer
        elif roll < 0.90 and self.revoked:
            self.expect_refused(self.random.choice(self.revoked))
        else:
            self.revoke(session)
            return {}
        return session

    def revoke(self, session: dict) -> None:
        how = self.random.choice(["logout", "logout-all", "revoke"])
        token = session["access"]
        if how == "revoke":
            call(
                self.base,
                self.tally,
                "revoke",
                "POST",
                "/api/token/revoke/",
                token,
                {"token": token},
            )
        else:
            call(self.base, self.tally, how, "POST", f"/api/token/{how}/", token)
        self.expect_refused(token)  # at once, through whichever worker answers
        with self.tally.lock:
            self.revoked.append(token)
