"""DuckDB dedup: stored 128-bit key hashes, the numpy index, reopen and upgrade of old stores."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

from meterly.storage.events.base import AggregateQuery, MeterSpec, NewEvent
from meterly.storage.events.dedup import KeyIndex, key_hashes, repeats
from meterly.storage.events.duckdb import DuckDBEventStore

T = datetime(2024, 3, 1, 12, tzinfo=UTC)


def ev(id: str, source: str = "pbx", tenant: str = "t1", data: str = "{}") -> NewEvent:
    return NewEvent(tenant, source, id, "call", "c1", T, data)


def test_key_hash_is_stable_and_length_prefixed() -> None:
    # Stored on disk: a change here would make every stored event look new again.
    k = key_hashes(["t1"], ["pbx"], ["evt-1"])
    assert k.dtype == np.uint64 and k.shape == (1, 2)
    assert [int(x) for x in k[0]] == [int(x) for x in key_hashes(["t1"], ["pbx"], ["evt-1"])[0]]
    golden = key_hashes(["1"], ["api"], ["a"])[0]
    assert (int(golden[0]), int(golden[1])) == (14439652369621786518, 14606656257123023195)
    # Without length prefixes these two keys would hash the same bytes.
    a, b = key_hashes(["t", "t1"], ["1x", "x"], ["y", "y"])
    assert not (a == b).all()


def test_repeats_keep_the_first() -> None:
    k = key_hashes(["t"] * 5, ["s"] * 5, ["a", "b", "a", "c", "a"])
    assert repeats(k).tolist() == [False, False, True, False, True]
    assert repeats(k[:1]).tolist() == [False]


def test_index_runs_merge_and_find() -> None:
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 2**64 - 1, 10_000, dtype=np.uint64)
    index = KeyIndex(stored[:5000])
    for lo in range(5000, 10_000, 700):  # many small appends: runs merge as they grow
        index.add(stored[lo : lo + 700])
    assert len(index) == 10_000 and index.nbytes == 80_000
    assert len(index._runs) <= 8
    probe = np.concatenate([stored[::97], rng.integers(0, 2**64 - 1, 500, dtype=np.uint64)])
    hit = index.maybe_stored(probe)
    assert hit[: len(stored[::97])].all() and not hit[len(stored[::97]) :].any()
    assert not KeyIndex(stored[:0]).maybe_stored(probe).any()


def test_reopen_dedups_and_a_k1_collision_is_not_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    s = DuckDBEventStore(path)
    s.append([ev(str(i)) for i in range(1000)])
    s.close()
    s = DuckDBEventStore(path)
    try:
        assert s.index_bytes == 8 * 1000
        r = s.append([ev("5"), ev("new"), ev("999"), ev("new")])
        assert (r.accepted, r.duplicate_indexes) == (1, (0, 2, 3))
        # A key whose k1 is in the index but whose full hash is not (a 64-bit collision) is
        # confirmed against the table and stored.
        fresh = key_hashes(["t1"], ["pbx"], ["fresh"])
        s._index.add(fresh[:, 0])
        assert s.append([ev("fresh")]).accepted == 1
        assert s.count() == 1002
    finally:
        s.close()


def test_concurrent_retries_across_threads_store_once(tmp_path: Path) -> None:
    s = DuckDBEventStore(tmp_path / "e.db")
    batches = [[ev(f"{b}-{i}") for i in range(300)] for b in range(4)]
    results = []

    def send(b: int) -> None:
        for _ in range(3):
            results.append(s.append(batches[b] + batches[(b + 1) % 4][:50]))

    threads = [threading.Thread(target=send, args=(b,)) for b in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert s.count() == 1200
        assert sum(r.accepted for r in results) == 1200
    finally:
        s.close()


def test_upgrade_of_a_store_written_before_key_hashes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE events (tenant VARCHAR NOT NULL, source VARCHAR NOT NULL, "
        "id VARCHAR NOT NULL, type VARCHAR NOT NULL, subject VARCHAR NOT NULL, "
        "time TIMESTAMPTZ NOT NULL, data VARCHAR NOT NULL, received_at TIMESTAMPTZ NOT NULL);"
        "CREATE TABLE corrections (tenant VARCHAR NOT NULL, source VARCHAR NOT NULL, "
        "id VARCHAR NOT NULL, seq BIGINT NOT NULL, kind VARCHAR NOT NULL, actor VARCHAR NOT NULL,"
        ' reason VARCHAR, data VARCHAR, time TIMESTAMPTZ, "at" TIMESTAMPTZ NOT NULL);'
    )
    for i, v in enumerate(["0.123456789012345678", "0.000000000000000001"]):
        con.execute(
            "INSERT INTO events VALUES ('t1', 'pbx', ?, 'call', 'c1', ?, ?, ?)",
            [str(i), T, f'{{"v": {v}}}', T],
        )
    con.close()
    s = DuckDBEventStore(path)
    try:
        r = s.append([ev("0"), ev("1"), ev("2", data='{"v": 1}')])
        assert (r.accepted, r.duplicates) == (1, 2)
        meter = MeterSpec("call", "sum", value="$.v")
        start, end = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
        [row] = s.aggregate(AggregateQuery(meter=meter, start=start, end=end))
        assert str(row.value) == "1.123456789012345679"
    finally:
        s.close()
