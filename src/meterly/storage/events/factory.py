"""Open the event store a URL names: duckdb:///path (default) or memory://."""

from __future__ import annotations

from pathlib import Path

from meterly.errors import InvalidInput
from meterly.storage.events.base import EventStore


def open_event_store(url: str) -> EventStore:
    if url.startswith("duckdb:///"):
        from meterly.storage.events.duckdb import DuckDBEventStore

        path = Path(url.removeprefix("duckdb:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return DuckDBEventStore(path)
    if url.startswith("memory://"):
        from meterly.storage.events.memory import MemoryEventStore

        return MemoryEventStore()
    raise InvalidInput(f"unsupported event store URL '{url}': use duckdb:///PATH or memory://")
