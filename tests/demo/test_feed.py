"""The demo's feed (demo.feed): made a chunk of customers at a time, in a helper process when
there is more than one chunk. The helper must make exactly what the demo would make itself,
and the feed keeps its imperfections: late events held back, duplicates, malformed events."""

from __future__ import annotations

import orjson
import pytest

from meterly.demo import cast, feed
from meterly.demo.events import months
from meterly.demo.runner import FIRST_MONTH


def test_chunks_made_in_a_helper_process_equal_chunks_made_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feed, "CHUNK", 3)
    roster = cast.customers(7, 5)
    month = months(FIRST_MONTH, 1)[0]
    made_there = list(feed.chunks(roster, month, 5))  # three chunks: the helper process
    parts = [roster[i : i + 3] for i in range(0, 7, 3)]
    made_here = [feed.make_chunk(p, month, 5, i) for i, p in enumerate(parts)]
    assert made_there == made_here
    assert [c.customers for c in made_there] == [3, 3, 1]

    sent = [e for c in made_there for body in c.bodies for e in orjson.loads(body)]
    ids = [e["id"] for e in sent]
    late = [e["id"] for c in made_there for e in c.late]
    assert late and not set(late) & set(ids)  # held back: not in this month's feed
    assert len(ids) > len(set(ids))  # a few resent: duplicates
    assert any("-garbled-" in i for i in ids)  # and a few malformed
    assert all(len(orjson.loads(b)) <= feed.BATCH for c in made_there for b in c.bodies)
