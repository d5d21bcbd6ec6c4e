"""A middleware of the integration servers: each response names the worker that served it."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def worker_pid(get_response: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Add ``X-Worker-Pid``, so that a test can tell that every worker has answered."""

    def middleware(request: Any) -> Any:
        response = get_response(request)
        response["X-Worker-Pid"] = str(os.getpid())
        return response

    return middleware
