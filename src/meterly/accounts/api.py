"""HTTP endpoints of the accounts domain."""

from __future__ import annotations

from fastapi import APIRouter, Query

from meterly.accounts import service
from meterly.accounts.schemas import AccountCreate, AccountList, AccountOut
from meterly.api.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post("", status_code=201, response_model=AccountOut)
def create_account(
    body: AccountCreate, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> AccountOut:
    out = service.create_account(session, principal, body)
    session.commit()  # visible before the subject cache is told
    runtime.subjects.forget(out.external_id, *out.subject_aliases)
    return out


@router.get("", response_model=AccountList)
def list_accounts(
    principal: PrincipalDep,
    session: SessionDep,
    kind: str | None = None,
    parent: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    cursor: str | None = None,
) -> AccountList:
    rows, nxt = service.list_accounts(
        session, principal, kind=kind, parent=parent, limit=limit, after=cursor
    )
    return AccountList(data=rows, next_cursor=nxt)


@router.get("/{external_id}", response_model=AccountOut)
def get_account(external_id: str, principal: PrincipalDep, session: SessionDep) -> AccountOut:
    return service.get_account(session, principal, external_id)
