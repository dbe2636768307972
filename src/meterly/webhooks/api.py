"""HTTP endpoints of webhooks."""

from __future__ import annotations

from fastapi import APIRouter

from meterly.api.deps import PrincipalDep, SessionDep
from meterly.storage.ledger import utcnow
from meterly.webhooks import service
from meterly.webhooks.schemas import (
    DeliveryList,
    DeliveryOut,
    EndpointCreate,
    EndpointList,
    EndpointOut,
    EndpointPatch,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=201, response_model=EndpointOut)
def create_endpoint(
    body: EndpointCreate, principal: PrincipalDep, session: SessionDep
) -> EndpointOut:
    """Register an endpoint; the answer carries its signing secret (Standard Webhooks)."""
    return service.create_endpoint(session, principal, body)


@router.get("", response_model=EndpointList)
def list_endpoints(principal: PrincipalDep, session: SessionDep) -> EndpointList:
    return EndpointList(data=service.list_endpoints(session, principal))


@router.get("/{endpoint_id}", response_model=EndpointOut)
def get_endpoint(endpoint_id: int, principal: PrincipalDep, session: SessionDep) -> EndpointOut:
    return service.get_endpoint(session, principal, endpoint_id)


@router.patch("/{endpoint_id}", response_model=EndpointOut)
def update_endpoint(
    endpoint_id: int, body: EndpointPatch, principal: PrincipalDep, session: SessionDep
) -> EndpointOut:
    return service.update_endpoint(session, principal, endpoint_id, body)


@router.delete("/{endpoint_id}", status_code=204)
def delete_endpoint(endpoint_id: int, principal: PrincipalDep, session: SessionDep) -> None:
    """Disable the endpoint (its delivery log is kept)."""
    service.delete_endpoint(session, principal, endpoint_id)


@router.get("/{endpoint_id}/deliveries", response_model=DeliveryList)
def list_deliveries(endpoint_id: int, principal: PrincipalDep, session: SessionDep) -> DeliveryList:
    """Deliveries to this endpoint, newest first, each with its attempt log."""
    return DeliveryList(data=service.list_deliveries(session, principal, endpoint_id))


@router.post("/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut)
def redeliver(delivery_id: int, principal: PrincipalDep, session: SessionDep) -> DeliveryOut:
    """Send a delivery again (a fresh retry schedule)."""
    return service.redeliver(session, principal, delivery_id, utcnow())
