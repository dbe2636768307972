"""HTTP endpoints: seller profiles (billing settings and brand) and one-step reseller onboarding."""

from __future__ import annotations

from fastapi import APIRouter

from meterly.api.deps import PrincipalDep, RuntimeDep, SessionDep
from meterly.resellers import profiles, service
from meterly.resellers.schemas import ProfileOut, ProfilePatch, ResellerCreate, ResellerOut

router = APIRouter(prefix="/v1", tags=["resellers"])


@router.get("/sellers/{external_id}/profile", response_model=ProfileOut)
def get_profile(external_id: str, principal: PrincipalDep, session: SessionDep) -> ProfileOut:
    """A seller's billing settings and brand (the defaults when none were set). A provider or
    reseller in your subtree; anything else is 404."""
    return profiles.get_profile(session, principal, external_id)


@router.put("/sellers/{external_id}/profile", response_model=ProfileOut)
def put_profile(
    external_id: str, body: ProfilePatch, principal: PrincipalDep, session: SessionDep
) -> ProfileOut:
    """Set fields of a seller's profile; fields left out are kept, null resets or clears."""
    return profiles.update_profile(session, principal, external_id, body)


@router.patch("/sellers/{external_id}/profile", response_model=ProfileOut)
def patch_profile(
    external_id: str, body: ProfilePatch, principal: PrincipalDep, session: SessionDep
) -> ProfileOut:
    """The same partial update as PUT."""
    return profiles.update_profile(session, principal, external_id, body)


@router.post("/resellers", status_code=201, response_model=ResellerOut)
def create_reseller(
    body: ResellerCreate, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> ResellerOut:
    """Onboard a reseller in one transaction: its account (below you or `parent`), an admin API
    key (the secret is in this response only), its seller profile, and a `retail` price book
    copied from the parent's template book with every amount marked up by `markup` percent
    (plus the parent's plans, marked up the same way, unless `copy_plans` is false)."""
    out = service.onboard(session, principal, body)
    session.commit()  # visible before the subject cache is told
    runtime.subjects.forget(out.account.external_id)
    return out
