"""The running system: settings, ledger and event store, built once and passed to every layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from meterly.config import Settings
from meterly.ingest.subjects import SubjectCache
from meterly.storage import migrate
from meterly.storage.events.base import EventStore
from meterly.storage.events.factory import open_event_store
from meterly.storage.ledger import Ledger


@dataclass
class Runtime:
    settings: Settings
    ledger: Ledger
    events: EventStore
    subjects: SubjectCache = field(init=False)

    def __post_init__(self) -> None:
        self.subjects = SubjectCache(self.ledger)

    @classmethod
    def open(
        cls, settings: Settings, *, upgrade: bool = True, events: EventStore | None = None
    ) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        ledger = Ledger(settings.resolved_ledger_url)
        if upgrade:
            migrate.upgrade(ledger, settings.provider_id, settings.provider_name)
        store = events if events is not None else open_event_store(settings.resolved_events_url)
        return cls(settings, ledger, store)

    def close(self) -> None:
        self.events.close()
        self.ledger.dispose()
