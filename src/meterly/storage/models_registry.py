"""Imports every domain's ledger models so `Base.metadata` is complete (Alembic, tests)."""

from __future__ import annotations

from meterly.accounts import models as _accounts
from meterly.billing import commitments as _commitments
from meterly.billing import models as _billing
from meterly.billing.money import models as _money
from meterly.catalog import models as _catalog
from meterly.jobs import models as _jobs
from meterly.metering import models as _metering
from meterly.plans import models as _plans
from meterly.portal import models as _portal
from meterly.storage.ledger import Base
from meterly.subscriptions import models as _subscriptions
from meterly.webhooks import models as _webhooks

__all__ = [
    "Base",
    "_accounts",
    "_billing",
    "_catalog",
    "_commitments",
    "_jobs",
    "_metering",
    "_money",
    "_plans",
    "_portal",
    "_subscriptions",
    "_webhooks",
]
