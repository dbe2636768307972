from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from meterly.storage.events.base import EventStore
from meterly.storage.events.duckdb import DuckDBEventStore
from meterly.storage.events.memory import MemoryEventStore


@pytest.fixture(params=["memory", "duckdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    s: EventStore = (
        MemoryEventStore() if request.param == "memory" else DuckDBEventStore(tmp_path / "e.db")
    )
    yield s
    s.close()
