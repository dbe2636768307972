"""The switch's feed of a month, ready to POST: made CHUNK customers at a time, each chunk's
events encoded as JSON request bodies.

For a large demo (10,000 customers: about 14 M events a month) making and encoding the feed is
as much Python work as ingesting it, and the server runs in the demo's own process: the chunks
are made in a separate process, one or two ahead of the one being sent, so the two cores share
the work and memory holds at most three chunks.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import orjson

from meterly.demo.cast import Customer
from meterly.demo.events import MonthPlan, feed_imperfections, month_events

CHUNK = 500  # customers whose month of events is made and sent at once
BATCH = 1000  # events per request
AHEAD = 2  # chunks made ahead of the one being sent


@dataclass(frozen=True)
class Chunk:
    customers: int
    bodies: list[bytes]  # JSON arrays of at most BATCH events
    late: list[dict[str, Any]]  # held back: they arrive with next month's feed


def bodies(events: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(events[i : i + BATCH]) for i in range(0, len(events), BATCH)]


def make_chunk(customers: list[Customer], month: MonthPlan, seed: int, index: int) -> Chunk:
    """One chunk's feed: its events, a few resent (duplicates) and garbled (malformed), and
    one in 5,000 held back to arrive late. Deterministic for (seed, month, index)."""
    rng = random.Random(f"{seed}:{month.start}:{index}")
    feed = list(month_events(customers, month, seed))
    held = max(1, len(feed) // 5000) if feed else 0
    late = [feed.pop(rng.randrange(len(feed))) for _ in range(held)]
    dups, bad = feed_imperfections(feed, rng)
    return Chunk(len(customers), bodies(feed + dups + bad), late)


def chunks(roster: list[Customer], month: MonthPlan, seed: int) -> Iterator[Chunk]:
    """The month's chunks in order: made here for a one-chunk demo, else in a helper process
    (spawned, not forked: the demo's process runs server and worker threads)."""
    parts = [roster[i : i + CHUNK] for i in range(0, len(roster), CHUNK)]
    if len(parts) <= 1:
        yield from (make_chunk(p, month, seed, i) for i, p in enumerate(parts))
        return
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        pending: deque[Future[Chunk]] = deque()
        for i, part in enumerate(parts):
            pending.append(pool.submit(make_chunk, part, month, seed, i))
            if len(pending) > AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
