"""Worker duties of the money domain: overdue announcements and credit expiry."""

from __future__ import annotations

from datetime import datetime

from meterly.billing.money import credits_service, payments
from meterly.jobs.worker import duty
from meterly.runtime import Runtime


@duty
def overdue_invoices(runtime: Runtime, now: datetime) -> int:
    with runtime.ledger.unit_of_work() as s:
        return payments.announce_overdue(s, now)


@duty
def expire_credits(runtime: Runtime, now: datetime) -> int:
    with runtime.ledger.unit_of_work() as s:
        return credits_service.expire_due(s, now)
