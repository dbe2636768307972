"""GET requests read in a deferred transaction: on SQLite they answer while a writer (a bill
run's open transaction) holds the write lock, instead of queueing behind it; and a read-only
unit of work refuses to write."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from meterly.accounts.models import Account
from support import Env


def test_a_get_answers_while_a_writer_holds_the_lock(env: Env) -> None:
    env.account("acme")
    with env.runtime.ledger.unit_of_work() as w:
        w.execute(text("UPDATE accounts SET name = 'Acme (renaming)' WHERE external_id = 'acme'"))
        # the writer's transaction is open (BEGIN IMMEDIATE on SQLite); a read goes on beside it
        r = env.get("/v1/accounts/acme")
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "acme"  # the last committed value, not the open write
    assert env.get("/v1/accounts/acme").json()["name"] == "Acme (renaming)"


def test_a_read_only_unit_of_work_refuses_to_write(env: Env) -> None:
    refused = pytest.raises(RuntimeError, match="read-only")
    with refused, env.runtime.ledger.unit_of_work(read_only=True) as s:
        s.add(Account(external_id="sneaky", name="x", kind="customer", path="/x/"))
        s.flush()
    assert env.get("/v1/accounts/sneaky").status_code == 404
