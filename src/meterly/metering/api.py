"""HTTP endpoints of meters and usage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from meterly.api.deps import PrincipalDep, RuntimeDep, SessionDep
from meterly.metering import service, usage
from meterly.metering.schemas import MeterCreate, MeterList, MeterOut, MeterPatch, UsageOut

router = APIRouter(prefix="/v1/meters", tags=["meters"])


@router.post("", status_code=201, response_model=MeterOut)
def create_meter(body: MeterCreate, principal: PrincipalDep, session: SessionDep) -> MeterOut:
    """A meter created later covers the events already stored."""
    return service.create_meter(session, principal, body)


@router.get("", response_model=MeterList)
def list_meters(principal: PrincipalDep, session: SessionDep) -> MeterList:
    return MeterList(data=service.list_meters(session, principal))


@router.get("/{key}", response_model=MeterOut)
def get_meter(key: str, principal: PrincipalDep, session: SessionDep) -> MeterOut:
    return service.get_meter(session, principal, key)


@router.patch("/{key}", response_model=MeterOut)
def update_meter(
    key: str, body: MeterPatch, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> MeterOut:
    """`name` and `group_by` may always change; `event_type`, `aggregation`, `value` and
    `filter` only while no stored event matches the meter (409 otherwise)."""
    return service.update_meter(session, principal, runtime.events, key, body)


@router.get("/{key}/usage", response_model=UsageOut, responses={200: {"content": {"text/csv": {}}}})
def meter_usage(
    key: str,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    subject: str | None = None,
    from_: Annotated[str | None, Query(alias="from", description="inclusive, RFC 3339")] = None,
    to: Annotated[str | None, Query(description="exclusive, RFC 3339")] = None,
    window: Annotated[str | None, Query(description="minute, hour, day or month")] = None,
    tz: Annotated[str | None, Query(description="IANA zone; default the account's")] = None,
    group_by: Annotated[list[str] | None, Query()] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> object:
    result = usage.query_usage(
        session,
        runtime.events,
        principal,
        key,
        subject=subject,
        start=usage.parse_bound(from_, "from"),
        end=usage.parse_bound(to, "to"),
        window=window,
        tz=tz,
        group_by=group_by,
    )
    if format == "csv":
        return Response(usage.to_csv(result, group_by or []), media_type="text/csv")
    return result.as_dict()
