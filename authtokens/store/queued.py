"""Commands written to Redis without waiting, on connections that send nothing first.

The mirror guard (``guard.py``) needs a command queued in Redis ahead of anything a client
sends later, even while Redis hangs: so the command is written in one go, handshake included,
and its replies are read later, by another thread, a timeout leaving them queued. This module
is that connection handling; what is owed, and when to write it, is the guard's.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


def queued_connection(pool: Any) -> Any:
    """A connection of ``pool``'s kind that sends nothing on connect.

    redis-py's handshake (CLIENT SETINFO, AUTH, SELECT) waits for replies, so against a hung
    server our command would never be written. The caller sends AUTH and SELECT itself, in
    one write with its command.
    """

    class NoHandshake(pool.connection_class):
        def on_connect(self) -> None:
            self._parser.on_connect(self)

        def on_connect_check_health(self, check_health: bool = True) -> None:
            self._parser.on_connect(self)

    return NoHandshake(**pool.connection_kwargs)


def handshake_commands(connection: Any) -> list[tuple[Any, ...]]:
    """The AUTH and SELECT that redis-py's skipped handshake would have sent."""
    commands: list[tuple[Any, ...]] = []
    password = getattr(connection, "password", None)
    if password:
        username = getattr(connection, "username", None)
        commands.append(("AUTH", username, password) if username else ("AUTH", password))
    if getattr(connection, "db", 0):
        commands.append(("SELECT", connection.db))
    return commands


@dataclass
class Sent:
    """Commands written to Redis whose replies we have not all read yet."""

    connection: Any
    unread: int
    covers: int  # every invalidation requested up to this one was committed before the write


def write(
    pool: Callable[[], Any], commands: list[tuple[Any, ...]], covers: int, connection: Any = None
) -> Sent | None:
    """Write ``commands`` without waiting for their replies: on ``connection`` (established, its
    handshake done) if given, else on a new queued connection of ``pool()``, after AUTH and
    SELECT in the same write. None if it could not be written; the connection is then closed."""
    try:
        if connection is None:
            connection = queued_connection(pool())
            connection.connect()
            commands = [*handshake_commands(connection), *commands]
        connection.send_packed_command(connection.pack_commands(commands), False)
        return Sent(connection, len(commands), covers)
    except (RedisError, OSError):
        if connection is not None:
            connection.disconnect()
        return None


def answering(pool: Callable[[], Any], standby: Any = None) -> Any:
    """``standby`` once it has answered a PING, or a new connection that has (handshake done);
    None if Redis did not answer, the connection then closed. Waits for the replies."""
    sent = write(pool, [("PING",)], 0, standby)
    if sent is None:
        return None
    try:
        for _ in range(sent.unread):
            sent.connection.read_response()
    except (RedisError, OSError):
        sent.connection.disconnect()
        return None
    return sent.connection


class Replies(enum.Enum):
    READ = "read"  # every reply read, the connection closed
    WAITING = "waiting"  # Redis has not answered yet; the command stays queued
    LOST = "lost"  # the connection failed and is closed: Redis may not have run the command
    REFUSED = "refused"  # Redis answered with an error (MOVED, READONLY): it ran nothing


def read_replies(sent: Sent) -> Replies:
    """Read what has come back for ``sent``; a timeout leaves the rest queued, never abandoned
    (a hung Redis runs the command first when it wakes up)."""
    try:
        while sent.unread:
            sent.connection.read_response(disconnect_on_error=False)
            sent.unread -= 1
    except RedisTimeoutError:
        return Replies.WAITING
    except ResponseError:
        sent.connection.disconnect()
        return Replies.REFUSED
    except (RedisError, OSError):
        sent.connection.disconnect()
        return Replies.LOST
    sent.connection.disconnect()
    return Replies.READ
