"""The meter-definition cache of the usage hot path is per ledger: two ledgers in one process
(ids start at 1 in both) never see each other's meters."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from meterly.accounts.models import Account
from meterly.accounts.scope import principal_for
from meterly.config import Settings
from meterly.metering.schemas import MeterCreate
from meterly.metering.service import create_meter
from meterly.runtime import Runtime
from meterly.subscriptions.usage_source import meter_spec


def test_two_ledgers_keep_their_own_meter_definitions(tmp_path: Path) -> None:
    types = {}
    for name, event_type in (("one", "fax.sent"), ("two", "fax.page")):
        rt = Runtime.open(Settings(data_dir=tmp_path / name, events_url="memory://"))
        try:
            with rt.ledger.unit_of_work() as s:
                root = s.scalar(select(Account).where(Account.parent_id.is_(None)))
                assert root is not None
                body = MeterCreate(
                    key="fax-pages", name="Fax", event_type=event_type, aggregation="count"
                )
                create_meter(s, principal_for(root), body)
            with rt.ledger.sessions() as s:
                root = s.scalar(select(Account).where(Account.parent_id.is_(None)))
                assert root is not None
                types[name] = meter_spec(s, principal_for(root), "fax-pages").event_type
        finally:
            rt.close()
    assert types == {"one": "fax.sent", "two": "fax.page"}
