"""The recipe's example store (README, "Add a revocation store"): the smallest store that
keeps the contract, in one process's memory.

A fixture for the contract suite, never a deployment: another process would not see a
revocation made here, and a restart forgets them all. It shows what a store must do: answer
``get_state`` from what the hooks told it, refuse a device it was never told about or that is
someone else's, never let a late "issued" undo a revocation, and never move a generation back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from authtokens.store.base import RevocationState, RevocationStore

REVOKED = None  # a device's owner once it is revoked


class MemoryStore(RevocationStore):
    mirrors = True  # the services call the hooks after each commit

    def __init__(self) -> None:
        self.device_owners: dict[str, str | None] = {}
        self.revoked_tokens: set[str] = set()
        self.generations: dict[str, int] = {}

    def get_state(self, claims: Mapping[str, Any]) -> RevocationState:
        owner = self.device_owners.get(claims["did"], REVOKED)  # unknown: refused
        return RevocationState(
            token_revoked=claims["jti"] in self.revoked_tokens,
            device_revoked=owner is REVOKED or owner != str(claims["sub"]),
            user_generation=self.generations.get(str(claims["sub"]), 0),
        )

    def token_revoked(self, jti: str, expires_at: datetime | None, user_id: Any = None) -> bool:
        self.revoked_tokens.add(jti)
        return True

    def device_revoked(
        self, device_id: str, expires_at: datetime | None, user_id: Any = None
    ) -> bool:
        self.device_owners[device_id] = REVOKED
        return True

    def device_issued(self, device_id: str, user_id: str, expires_at: datetime | None) -> bool:
        self.device_owners.setdefault(device_id, str(user_id))  # never over a revocation
        return True

    def user_revoked(self, user_id: str, generation: int) -> bool:
        key = str(user_id)
        self.generations[key] = max(generation, self.generations.get(key, 0))
        return True
