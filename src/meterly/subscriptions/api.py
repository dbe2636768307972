"""HTTP endpoints: subscriptions and their changes, purchases, upcoming invoice, entitlements."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from meterly.api.deps import PrincipalDep, RuntimeDep, SessionDep
from meterly.catalog.schemas import ListOf
from meterly.subscriptions import entitlements, purchases, service
from meterly.subscriptions.changes import apply_change
from meterly.subscriptions.schemas import (
    ChangeIn,
    EntitlementCheck,
    PurchaseIn,
    PurchaseOut,
    SubscriptionCreate,
    SubscriptionOut,
    UpcomingOut,
)
from meterly.subscriptions.service import aware
from meterly.subscriptions.upcoming import upcoming

router = APIRouter(prefix="/v1", tags=["subscriptions"])


@router.post("/subscriptions", status_code=201, response_model=SubscriptionOut)
def create_subscription(
    body: SubscriptionCreate, principal: PrincipalDep, session: SessionDep
) -> SubscriptionOut:
    """Subscribe a customer to a plan version (default latest) from `start` (default now)."""
    return service.create_subscription(session, principal, body)


@router.get("/subscriptions", response_model=ListOf)
def list_subscriptions(
    principal: PrincipalDep,
    session: SessionDep,
    customer: str | None = None,
    plan: str | None = None,
) -> ListOf:
    return ListOf(data=service.list_subscriptions(session, principal, customer, plan))


@router.get("/subscriptions/{sub_id}", response_model=SubscriptionOut)
def get_subscription(sub_id: int, principal: PrincipalDep, session: SessionDep) -> SubscriptionOut:
    """The state in force now, with every recorded change."""
    return service.get_subscription(session, principal, sub_id)


@router.post("/subscriptions/{sub_id}/changes", status_code=201, response_model=SubscriptionOut)
def change_subscription(
    sub_id: int, body: ChangeIn, principal: PrincipalDep, session: SessionDep
) -> SubscriptionOut:
    """One change, effective at `effective_at` (default now): `quantity`, `plan` (upgrade or
    downgrade), `add_on_added`, `add_on_removed`, `cancel` (now, or `at_period_end`)."""
    return apply_change(session, principal, sub_id, body)


@router.post("/purchases", status_code=201, response_model=PurchaseOut)
def create_purchase(body: PurchaseIn, principal: PrincipalDep, session: SessionDep) -> PurchaseOut:
    """A one-off purchase (hardware, set-up fee), billed on the customer's next invoice."""
    return purchases.create_purchase(session, principal, body)


@router.get("/purchases", response_model=ListOf)
def list_purchases(
    principal: PrincipalDep,
    session: SessionDep,
    customer: str | None = None,
    unbilled: bool = False,
) -> ListOf:
    return ListOf(data=purchases.list_purchases(session, principal, customer, unbilled))


@router.get("/customers/{external_id}/upcoming", response_model=UpcomingOut)
def upcoming_invoice(
    external_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    subscription: int | None = None,
    at: datetime | None = Query(None, description="As of this time (default now)"),
) -> UpcomingOut:
    """The invoice the customer would get at the end of the current period, from usage so far."""
    when = aware(at, "at") if at is not None else None
    return upcoming(session, runtime.events, principal, external_id, subscription, when)


@router.get("/entitlements/{customer}/{feature}", response_model=EntitlementCheck)
def check_entitlement(
    customer: str, feature: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> EntitlementCheck:
    """Whether the customer may use the feature now; for a metered limit, the period's usage."""
    return entitlements.check(session, runtime.events, principal, customer, feature)
