"""HTTP endpoints of plans: create, read, edit (new version), versions, migrate subscriptions."""

from __future__ import annotations

from fastapi import APIRouter

from meterly.api.deps import PrincipalDep, SessionDep
from meterly.catalog.schemas import ListOf
from meterly.plans import service
from meterly.plans.schemas import MigrateIn, MigrateOut, PlanCreate, PlanOut, PlanPatch
from meterly.subscriptions.changes import migrate_plan

router = APIRouter(prefix="/v1/plans", tags=["plans"])


@router.post("", status_code=201, response_model=PlanOut)
def create_plan(
    body: PlanCreate, principal: PrincipalDep, session: SessionDep, seller: str | None = None
) -> PlanOut:
    """Create a plan (version 1): charges reference catalog products; each charge's price is
    snapshotted into the version."""
    return service.create_plan(session, principal, body, seller)


@router.get("", response_model=ListOf)
def list_plans(
    principal: PrincipalDep,
    session: SessionDep,
    ladder: str | None = None,
    seller: str | None = None,
) -> ListOf:
    """Latest version of each plan; `?ladder=` lists one feature ladder in level order."""
    return ListOf(data=service.list_plans(session, principal, ladder, seller))


@router.get("/{key}", response_model=PlanOut)
def get_plan(
    key: str, principal: PrincipalDep, session: SessionDep, version: int | None = None
) -> PlanOut:
    return service.get_plan(session, principal, key, version)


@router.get("/{key}/versions", response_model=ListOf)
def list_versions(key: str, principal: PrincipalDep, session: SessionDep) -> ListOf:
    return ListOf(data=service.list_versions(session, principal, key))


@router.patch("/{key}", response_model=PlanOut)
def update_plan(key: str, body: PlanPatch, principal: PrincipalDep, session: SessionDep) -> PlanOut:
    """Editing name, currency, interval, charges or entitlements makes the next version;
    subscriptions stay on theirs until migrated."""
    return service.update_plan(session, principal, key, body)


@router.post("/{key}/migrate", response_model=MigrateOut)
def migrate(key: str, body: MigrateIn, principal: PrincipalDep, session: SessionDep) -> MigrateOut:
    """Move the plan's subscriptions to `to_version` (default latest) from `at` (default now);
    each move is recorded as a `migrate` change."""
    return migrate_plan(session, principal, key, body.to_version, body.at)
