"""HTTP: `POST /v1/portal-sessions` hands out a link; `GET /portal/{token}` is the customer's
white-label portal (HTML) with its invoice and credit-note documents.

The portal pages answer HTML, including their 404 (a person reads them, not a script), and the
same 404 for an unknown, expired or revoked link and for a document that is not the customer's.
The token travels in the path, so the pages forbid caching and referrers."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from meterly.accounts.models import Account
from meterly.accounts.scope import principal_for
from meterly.api.deps import PrincipalDep, RuntimeDep, SessionDep
from meterly.billing.models import Invoice
from meterly.billing.money.models import CreditNote
from meterly.documents.api import add_document_routes, respond
from meterly.documents.logo import load_logo
from meterly.documents.render import Format, Kind, document
from meterly.errors import NotFound
from meterly.portal import page, service
from meterly.portal.schemas import PortalSessionIn, PortalSessionOut, RevokeIn, RevokeOut
from meterly.portal.service import link_url
from meterly.storage.ledger import utcnow

router = APIRouter(tags=["portal"])

_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never hand it to another site
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("meterly.portal", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@router.post("/v1/portal-sessions", status_code=201, response_model=PortalSessionOut)
def create_portal_session(
    body: PortalSessionIn,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> PortalSessionOut:
    """A link to the customer's billing portal in its seller's brand: plan, usage and charges so
    far, invoices and credit notes with their PDFs. Hand it to the customer (e-mail, your own
    app); it needs no API key and works until `expires_at`. 404 outside your subtree."""
    link = service.create_session(session, principal, body.customer, body.ttl_minutes, utcnow())
    base = runtime.settings.public_url or str(request.base_url)
    return PortalSessionOut(
        id=link.id,
        customer=link.customer,
        url=link_url(base, link.path),
        expires_at=link.expires_at,
    )


@router.post("/v1/portal-sessions/revoke", response_model=RevokeOut)
def revoke_portal_sessions(
    body: RevokeIn, principal: PrincipalDep, session: SessionDep
) -> RevokeOut:
    """End every open portal link of the customer at once. 404 outside your subtree."""
    count = service.revoke_sessions(session, principal, body.customer, utcnow())
    return RevokeOut(customer=body.customer, revoked=count)


def _gone() -> HTMLResponse:
    return HTMLResponse(_env().get_template("gone.html").render(), 404, headers=_HEADERS)


@router.get("/portal/{token}", response_class=HTMLResponse, responses={404: {}})
def portal_page(token: str, session: SessionDep, runtime: RuntimeDep) -> HTMLResponse:
    """The customer's portal (HTML). The link is the credential: no API key."""
    now = utcnow()
    try:
        customer, link = service.resolve(session, token, now)
    except NotFound:
        return _gone()
    view = page.build(session, runtime.events, customer, now)
    logo = load_logo(view.brand.logo_url)
    expires = link.expires_at.astimezone(ZoneInfo(customer.timezone)).strftime("%Y-%m-%d %H:%M %Z")
    html = (
        _env()
        .get_template("portal.html")
        .render(
            page=view,
            logo=logo.data_url if logo else None,
            base=f"/portal/{token}",
            expires=expires,
        )
    )
    return HTMLResponse(html, headers=_HEADERS)


def _owned(session: Session, kind: Kind, object_id: int, customer: Account) -> bool:
    """Only the customer's own documents, never a draft: a sub-reseller's portal does not list
    its customers' invoices, although they are in its subtree."""
    if kind == "invoice":
        inv = session.get(Invoice, object_id)
        return inv is not None and inv.customer_id == customer.id and inv.status != "draft"
    cn = session.get(CreditNote, object_id)
    return cn is not None and cn.customer_id == customer.id


def _document_endpoint(kind: Kind, fmt_: Format) -> Callable[..., Response]:
    def portal_document(
        session: SessionDep, token: str, object_id: int = Path(alias="id")
    ) -> Response:
        try:
            customer, _ = service.resolve(session, token, utcnow())
            if not _owned(session, kind, object_id, customer):
                raise NotFound("not found")
            rendered = document(session, principal_for(customer), kind, object_id, fmt_)
        except NotFound:
            return _gone()
        response = respond(rendered, fmt_)
        response.headers.update(
            {k: v for k, v in _HEADERS.items() if k != "Content-Security-Policy"}
        )
        return response

    return portal_document


add_document_routes(
    router, "/portal/{token}", _document_endpoint, ("html", "pdf"), name="portal_",
    summary="The customer's {label} as {fmt}, through its portal link",
)  # fmt: skip
