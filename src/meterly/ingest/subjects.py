"""Event subject -> account resolution, cached: the ingest hot path must not query per event."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from meterly.accounts.models import Account, AccountAlias
from meterly.storage.ledger import Ledger

_NEGATIVE_TTL_S = 1.0  # a subject unknown now may become an account any moment


@dataclass(frozen=True, slots=True)
class SubjectOwner:
    account_id: int
    external_id: str
    path: str


class SubjectCache:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._known: dict[str, SubjectOwner] = {}
        self._unknown: dict[str, float] = {}
        self._lock = threading.Lock()

    def resolve_many(self, subjects: set[str]) -> dict[str, SubjectOwner]:
        now = time.monotonic()
        with self._lock:
            found = {s: self._known[s] for s in subjects if s in self._known}
            missing = [
                s
                for s in subjects
                if s not in found and now - self._unknown.get(s, -1e9) > _NEGATIVE_TTL_S
            ]
        if missing:
            loaded = self._load(missing)
            with self._lock:
                self._known.update(loaded)
                for s in missing:
                    if s not in loaded:
                        self._unknown[s] = now
                    else:
                        self._unknown.pop(s, None)
            found.update(loaded)
        return found

    def forget(self, *subjects: str) -> None:
        with self._lock:
            for s in subjects:
                self._unknown.pop(s, None)
                self._known.pop(s, None)

    def _load(self, subjects: list[str]) -> dict[str, SubjectOwner]:
        out: dict[str, SubjectOwner] = {}
        with self._ledger.sessions() as s:
            for i in range(0, len(subjects), 500):
                chunk = subjects[i : i + 500]
                for a in s.scalars(select(Account).where(Account.external_id.in_(chunk))):
                    out[a.external_id] = SubjectOwner(a.id, a.external_id, a.path)
                rows = s.execute(
                    select(AccountAlias.alias, Account)
                    .join(Account, Account.id == AccountAlias.account_id)
                    .where(AccountAlias.alias.in_(chunk))
                )
                for alias, a in rows:
                    out[alias] = SubjectOwner(a.id, a.external_id, a.path)
        return out
