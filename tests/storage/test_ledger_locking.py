"""SQLite ledger transactions: reads begin deferred and run beside an open writer; writing units
of work take the write lock up front and serialize."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from meterly.storage.ledger import Ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    lg = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    with lg.unit_of_work() as s:
        s.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        s.execute(text("INSERT INTO counter VALUES (0)"))
    yield lg
    lg.dispose()


def _no_waiting(ledger: Ledger) -> None:
    """Make a lock conflict fail at once (SQLITE_BUSY) rather than wait out busy_timeout."""
    ledger.dispose()  # new connections from here on get the pragma below

    @event.listens_for(ledger.engine, "connect")
    def _busy_now(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=0")


def test_begin_statements(ledger: Ledger) -> None:
    begins: list[str] = []

    @event.listens_for(ledger.engine, "before_cursor_execute")
    def _log(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    with ledger.sessions() as s:
        s.execute(text("SELECT n FROM counter"))
    with ledger.unit_of_work() as s:
        s.execute(text("UPDATE counter SET n = n + 1"))
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"]


def test_read_runs_while_a_writer_holds_the_lock(ledger: Ledger) -> None:
    _no_waiting(ledger)
    with ledger.unit_of_work() as w:
        w.execute(text("UPDATE counter SET n = 41"))  # the write lock is held from here
        with ledger.sessions() as r:  # before the fix: BEGIN IMMEDIATE → database is locked
            assert r.execute(text("SELECT n FROM counter")).scalar() == 0  # last committed
        with ledger.sessions() as r:
            assert r.execute(text("SELECT n FROM counter")).scalar() == 0
    with ledger.sessions() as r:
        assert r.execute(text("SELECT n FROM counter")).scalar() == 41


def test_writers_still_serialize(ledger: Ledger) -> None:
    # Read-modify-write in each unit of work: a lost update or a failed upgrade would show.
    errors: list[BaseException] = []

    def bump(times: int) -> None:
        try:
            for _ in range(times):
                with ledger.unit_of_work() as s:
                    n = s.execute(text("SELECT n FROM counter")).scalar_one()
                    s.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(40,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with ledger.sessions() as r:
        assert r.execute(text("SELECT n FROM counter")).scalar() == 120
