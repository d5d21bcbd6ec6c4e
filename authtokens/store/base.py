"""The revocation store contract: read a token's revocation state, mirror new revocations."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..exceptions import TokenRevoked


@dataclass(frozen=True, slots=True)
class RevocationState:
    """What every revocation level says about one token (key retirement is checked on decode)."""

    token_revoked: bool = False
    device_revoked: bool = False
    user_generation: int = 0

    def check(self, claims: Mapping[str, Any]) -> None:
        """Raise ``TokenRevoked`` if any level revoked the token with these claims.

        The one place the rule lives, beside the state it reads: authentication, extend,
        refresh and introspection all call it. Key retirement, the fourth level, already
        failed the token in ``tokens.decode``.
        """
        if self.token_revoked or self.device_revoked or claims["gen"] < self.user_generation:
            raise TokenRevoked()


class RevocationStore(ABC):
    """Answer ``get_state`` for the hot path; the ``*_revoked`` hooks run after a commit.

    The database is always the source of truth: services write it first, in a transaction, and
    call the hooks on commit so that a faster store can mirror what was written. This class is
    the whole contract; ``tests/test_store.py`` (the ``contract_store`` tests) is what a new
    store must pass (README, "Add a revocation store").
    """

    #: Whether the ``*_revoked`` hooks copy anything (the database store is the truth itself).
    mirrors = False

    @abstractmethod
    def get_state(self, claims: Mapping[str, Any]) -> RevocationState:
        """Return the revocation state of the token with these verified claims (``sub``,
        ``did``, ``jti``, ``exp``), or raise ``StoreUnavailable``."""

    def token_revoked(self, jti: str, expires_at: datetime | None, user_id: Any = None) -> bool:
        """Mirror a revoked ``jti`` of ``user_id`` until ``expires_at`` (None: forever); False
        if it failed. ``user_id`` lets a store keep a user's entries together (a cluster)."""
        return True  # the database store has nothing to mirror

    def device_revoked(
        self, device_id: str, expires_at: datetime | None, user_id: Any = None
    ) -> bool:
        """Mirror a revoked device of ``user_id`` until its last token expires (None: ever)."""
        return True

    def device_issued(self, device_id: str, user_id: str, expires_at: datetime | None) -> bool:
        """Mirror a live device of ``user_id`` whose tokens last until ``expires_at``.

        A store that answers from a mirror must refuse a token whose device it does not know,
        or that belongs to another user, exactly as the database does."""
        return True

    def user_revoked(self, user_id: str, generation: int) -> bool:
        """Mirror a user's new token generation."""
        return True

    def rebuild(self) -> int | None:
        """Copy every live revocation from the database into the mirror and trust it again;
        return how many were copied, or None if it could not run now. A store that mirrors
        nothing has nothing to copy."""
        return 0

    def close(self) -> None:
        """Release what the instance holds (threads, connections) when it is replaced."""
        return None  # the database store holds nothing of its own
