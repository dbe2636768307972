"""HTTP endpoints of the catalog: products, features, price books, prices and price preview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from meterly.api.deps import PrincipalDep, SessionDep
from meterly.catalog import service
from meterly.catalog.preview import preview
from meterly.catalog.schemas import (
    FeatureCreate,
    FeatureOut,
    ListOf,
    PreviewIn,
    PreviewOut,
    PriceBookCreate,
    PriceBookOut,
    PriceOut,
    PricePatch,
    ProductCreate,
    ProductOut,
    ProductPatch,
)

router = APIRouter(prefix="/v1", tags=["catalog"])

_SELLER = "seller: external_id of a seller in your subtree (default: you)"
_PRICE_EXAMPLE = {
    "key": "fax-pages-tiered",
    "product": "fax-page",
    "meter": "fax-pages",
    "model": "graduated",
    "tiers": [
        {"up_to": "1000", "unit_amount": "0.02", "flat_amount": "0"},
        {"up_to": None, "unit_amount": "0.015", "flat_amount": "0"},
    ],
}


@router.post("/products", status_code=201, response_model=ProductOut)
def create_product(
    body: ProductCreate, principal: PrincipalDep, session: SessionDep, seller: str | None = None
) -> ProductOut:
    """Create a product in your catalog (`key` unique per seller)."""
    return service.create_product(session, principal, body, seller)


@router.get("/products", response_model=ListOf)
def list_products(
    principal: PrincipalDep, session: SessionDep, seller: str | None = None, kind: str | None = None
) -> ListOf:
    """Your catalog's products and your ancestors' (a customer sees its seller's)."""
    return ListOf(data=service.list_products(session, principal, seller, kind))


@router.get("/products/{key}", response_model=ProductOut)
def get_product(key: str, principal: PrincipalDep, session: SessionDep) -> ProductOut:
    return service.get_product(session, principal, key)


@router.patch("/products/{key}", response_model=ProductOut)
def update_product(
    key: str, body: ProductPatch, principal: PrincipalDep, session: SessionDep
) -> ProductOut:
    """Rename a product or change its unit label (`key` and `kind` are fixed)."""
    return service.update_product(session, principal, key, body)


@router.post("/features", status_code=201, response_model=FeatureOut)
def create_feature(
    body: FeatureCreate, principal: PrincipalDep, session: SessionDep, seller: str | None = None
) -> FeatureOut:
    return service.create_feature(session, principal, body, seller)


@router.get("/features", response_model=ListOf)
def list_features(
    principal: PrincipalDep, session: SessionDep, seller: str | None = None
) -> ListOf:
    return ListOf(data=service.list_features(session, principal, seller))


@router.post("/price-books", status_code=201, response_model=PriceBookOut)
def create_price_book(
    body: PriceBookCreate, principal: PrincipalDep, session: SessionDep, seller: str | None = None
) -> PriceBookOut:
    """A named set of prices; prices go to the seller's `default` book unless told."""
    return service.create_price_book(session, principal, body, seller)


@router.get("/price-books", response_model=ListOf)
def list_price_books(
    principal: PrincipalDep, session: SessionDep, seller: str | None = None
) -> ListOf:
    return ListOf(data=service.list_price_books(session, principal, seller))


@router.post("/prices/preview", response_model=PreviewOut)
def preview_price(body: PreviewIn, principal: PrincipalDep) -> PreviewOut:
    """Quote any price for a `quantity` or a list of `transactions`; nothing is stored."""
    return preview(body)


@router.post("/prices", status_code=201, response_model=PriceOut)
def create_price(
    principal: PrincipalDep,
    session: SessionDep,
    body: dict[str, Any] = Body(..., examples=[_PRICE_EXAMPLE]),
    seller: str | None = None,
) -> PriceOut:
    """The body is the price definition (see docs/catalog.md for every model) plus optional
    `key` and `price_book`. An invalid definition is a 422 whose details name the field."""
    return service.create_price(session, principal, body, seller)


@router.get("/prices", response_model=ListOf)
def list_prices(
    principal: PrincipalDep,
    session: SessionDep,
    seller: str | None = None,
    product: str | None = None,
    meter: str | None = None,
    currency: str | None = None,
    interval: str | None = None,
    price_book: str | None = None,
    active: bool | None = True,
) -> ListOf:
    rows = service.list_prices(
        session,
        principal,
        seller=seller,
        product=product,
        meter=meter,
        currency=currency,
        interval=interval,
        price_book=price_book,
        active=active,
    )
    return ListOf(data=rows)


@router.get("/prices/{key}", response_model=PriceOut)
def get_price(key: str, principal: PrincipalDep, session: SessionDep) -> PriceOut:
    return service.get_price(session, principal, key)


@router.patch("/prices/{key}", response_model=PriceOut)
def update_price(
    key: str, body: PricePatch, principal: PrincipalDep, session: SessionDep
) -> PriceOut:
    """Archive (`active: false`) or restore a price. Definitions never change: plans keep a
    snapshot, so create a new price instead."""
    return service.set_price_active(session, principal, key, body.active)
