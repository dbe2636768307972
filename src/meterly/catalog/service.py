"""Catalog use cases: products, features, price books and prices of a seller."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.scope import Principal
from meterly.catalog.models import Feature, PriceBook, PriceRecord, Product
from meterly.catalog.schemas import (
    FeatureCreate,
    FeatureOut,
    PriceBookCreate,
    PriceBookOut,
    PriceOut,
    ProductCreate,
    ProductOut,
    ProductPatch,
    check_key,
)
from meterly.catalog.sellers import external_ids, readable_sellers, writable_seller
from meterly.catalog.validation import validate_price
from meterly.errors import Conflict, InvalidInput, NotFound
from meterly.pricing.models import dump_price
from meterly.storage.ledger import Base

DEFAULT_BOOK = "default"
T = TypeVar("T", bound=Base)  # any table with seller_id and key columns


def nearest(session: Session, model: type[T], sellers: list[int], key: str, what: str) -> T:
    """The object with this key from the nearest seller (own catalog first, then ancestors)."""
    seller_col, key_col = getattr(model, "seller_id"), getattr(model, "key")  # noqa: B009
    rows = {
        getattr(r, "seller_id"): r  # noqa: B009
        for r in session.scalars(select(model).where(seller_col.in_(sellers), key_col == key))
    }
    for seller in sellers:
        if seller in rows:
            return rows[seller]
    raise NotFound(f"{what} '{key}' not found")


def _taken(session: Session, model: type[T], seller_id: int, key: str, what: str) -> None:
    seller_col, key_col = getattr(model, "seller_id"), getattr(model, "key")  # noqa: B009
    if session.scalar(select(seller_col).where(seller_col == seller_id, key_col == key)):
        raise Conflict(
            f"{what} '{key}' exists; choose another key", [{"field": "key", "message": "taken"}]
        )


# --- products ----------------------------------------------------------------------------------


def product_out(p: Product, seller: str) -> ProductOut:
    return ProductOut(
        key=p.key, name=p.name, kind=p.kind, unit=p.unit, seller=seller, created_at=p.created_at
    )


def create_product(
    session: Session, principal: Principal, body: ProductCreate, seller: str | None = None
) -> ProductOut:
    account = writable_seller(session, principal, seller)
    _taken(session, Product, account.id, body.key, "product")
    p = Product(seller_id=account.id, key=body.key, name=body.name, kind=body.kind, unit=body.unit)
    session.add(p)
    session.flush()
    audit.record(session, principal, "product.created", "product", p.key, account.id)
    return product_out(p, account.external_id)


def list_products(
    session: Session, principal: Principal, seller: str | None = None, kind: str | None = None
) -> list[ProductOut]:
    sellers = readable_sellers(session, principal, seller)
    stmt = select(Product).where(Product.seller_id.in_(sellers)).order_by(Product.key, Product.id)
    if kind:
        stmt = stmt.where(Product.kind == kind)
    rows = list(session.scalars(stmt))
    names = external_ids(session, {r.seller_id for r in rows})
    return [product_out(r, names[r.seller_id]) for r in rows]


def get_product(
    session: Session, principal: Principal, key: str, seller: str | None = None
) -> ProductOut:
    p = nearest(session, Product, readable_sellers(session, principal, seller), key, "product")
    return product_out(p, external_ids(session, {p.seller_id})[p.seller_id])


def update_product(
    session: Session, principal: Principal, key: str, body: ProductPatch, seller: str | None = None
) -> ProductOut:
    account = writable_seller(session, principal, seller)
    p = nearest(session, Product, [account.id], key, "product")
    for name, value in body.model_dump(exclude_unset=True).items():
        if name == "name" and value is None:
            continue
        setattr(p, name, value)
    session.flush()
    audit.record(session, principal, "product.updated", "product", p.key, account.id)
    return product_out(p, account.external_id)


# --- features ----------------------------------------------------------------------------------


def create_feature(
    session: Session, principal: Principal, body: FeatureCreate, seller: str | None = None
) -> FeatureOut:
    account = writable_seller(session, principal, seller)
    _taken(session, Feature, account.id, body.key, "feature")
    f = Feature(seller_id=account.id, key=body.key, name=body.name)
    session.add(f)
    session.flush()
    audit.record(session, principal, "feature.created", "feature", f.key, account.id)
    return FeatureOut(key=f.key, name=f.name, seller=account.external_id, created_at=f.created_at)


def list_features(
    session: Session, principal: Principal, seller: str | None = None
) -> list[FeatureOut]:
    sellers = readable_sellers(session, principal, seller)
    rows = list(
        session.scalars(select(Feature).where(Feature.seller_id.in_(sellers)).order_by(Feature.key))
    )
    names = external_ids(session, {r.seller_id for r in rows})
    return [
        FeatureOut(key=f.key, name=f.name, seller=names[f.seller_id], created_at=f.created_at)
        for f in rows
    ]


# --- price books -------------------------------------------------------------------------------


def create_price_book(
    session: Session, principal: Principal, body: PriceBookCreate, seller: str | None = None
) -> PriceBookOut:
    account = writable_seller(session, principal, seller)
    _taken(session, PriceBook, account.id, body.key, "price book")
    b = PriceBook(seller_id=account.id, key=body.key, name=body.name)
    session.add(b)
    session.flush()
    audit.record(session, principal, "price_book.created", "price_book", b.key, account.id)
    return PriceBookOut(key=b.key, name=b.name, seller=account.external_id, created_at=b.created_at)


def list_price_books(
    session: Session, principal: Principal, seller: str | None = None
) -> list[PriceBookOut]:
    sellers = readable_sellers(session, principal, seller)
    rows = list(
        session.scalars(
            select(PriceBook).where(PriceBook.seller_id.in_(sellers)).order_by(PriceBook.key)
        )
    )
    names = external_ids(session, {r.seller_id for r in rows})
    return [
        PriceBookOut(key=b.key, name=b.name, seller=names[b.seller_id], created_at=b.created_at)
        for b in rows
    ]


def _book(session: Session, seller_id: int, key: str | None) -> PriceBook:
    if key is None or key == DEFAULT_BOOK:
        book = session.scalar(
            select(PriceBook).where(PriceBook.seller_id == seller_id, PriceBook.key == DEFAULT_BOOK)
        )
        if book is None:
            book = PriceBook(seller_id=seller_id, key=DEFAULT_BOOK, name="Default price book")
            session.add(book)
            session.flush()
        return book
    try:
        return nearest(session, PriceBook, [seller_id], key, "price book")
    except NotFound as exc:
        raise InvalidInput(exc.message, [{"field": "price_book", "message": "not found"}]) from None


# --- prices ------------------------------------------------------------------------------------


def price_out(r: PriceRecord, seller: str, book: str, product: str) -> PriceOut:
    return PriceOut(
        key=r.key, price_book=book, product=product, meter=r.meter, model=r.model,
        currency=r.currency, interval=r.interval, timing=r.timing, active=r.active,
        seller=seller, price=r.definition, created_at=r.created_at,
    )  # fmt: skip


def check_meter(session: Session, principal: Principal, meter: str | None, field: str) -> None:
    if meter is None:
        return
    from meterly.metering.service import find_meter  # late: keeps catalog importable alone

    try:
        find_meter(session, principal, meter)
    except NotFound:
        raise InvalidInput(
            f"meter '{meter}' not found", [{"field": field, "message": "unknown meter"}]
        ) from None


def create_price(
    session: Session, principal: Principal, body: Mapping[str, Any], seller: str | None = None
) -> PriceOut:
    """`body` is the price definition plus optional `key` and `price_book`."""
    data = dict(body)
    key = data.pop("key", None)
    book_key = data.pop("price_book", None)
    if key is not None:
        try:
            check_key(str(key))
        except ValueError as exc:
            raise InvalidInput(f"key: {exc}", [{"field": "key", "message": str(exc)}]) from None
    price = validate_price(data)
    if price.product is None:
        raise InvalidInput(
            "a catalog price names its product", [{"field": "product", "message": "required"}]
        )
    account = writable_seller(session, principal, seller)
    sellers = readable_sellers(session, principal)
    try:
        product = nearest(session, Product, sellers, price.product, "product")
    except NotFound as exc:
        raise InvalidInput(
            exc.message, [{"field": "product", "message": "unknown product"}]
        ) from None
    check_meter(session, principal, price.meter, "meter")
    if key is not None:
        _taken(session, PriceRecord, account.id, str(key), "price")
    book = _book(session, account.id, book_key)
    key = key or f"price_{uuid.uuid4().hex[:12]}"  # a readable default, unique per seller
    record = PriceRecord(
        seller_id=account.id, price_book_id=book.id, key=str(key),
        product_id=product.id, meter=price.meter, model=price.model, currency=price.currency,
        interval=price.interval, timing=price.timing, definition=dump_price(price),
    )  # fmt: skip
    session.add(record)
    session.flush()
    audit.record(session, principal, "price.created", "price", record.key, account.id)
    return price_out(record, account.external_id, book.key, product.key)


def _outs(session: Session, rows: list[PriceRecord]) -> list[PriceOut]:
    names = external_ids(session, {r.seller_id for r in rows})
    book_ids, product_ids = {r.price_book_id for r in rows}, {r.product_id for r in rows}
    books = {
        i: k
        for i, k in session.execute(
            select(PriceBook.id, PriceBook.key).where(PriceBook.id.in_(book_ids))
        )
    }
    products = {
        i: k
        for i, k in session.execute(
            select(Product.id, Product.key).where(Product.id.in_(product_ids))
        )
    }
    return [
        price_out(r, names[r.seller_id], books[r.price_book_id], products[r.product_id])
        for r in rows
    ]


def list_prices(
    session: Session,
    principal: Principal,
    *,
    seller: str | None = None,
    product: str | None = None,
    meter: str | None = None,
    currency: str | None = None,
    interval: str | None = None,
    price_book: str | None = None,
    active: bool | None = True,
) -> list[PriceOut]:
    sellers = readable_sellers(session, principal, seller)
    stmt = select(PriceRecord).where(PriceRecord.seller_id.in_(sellers)).order_by(PriceRecord.id)
    if product:
        stmt = stmt.join(Product, Product.id == PriceRecord.product_id).where(
            Product.key == product
        )
    if price_book:
        stmt = stmt.join(PriceBook, PriceBook.id == PriceRecord.price_book_id).where(
            PriceBook.key == price_book
        )
    if meter:
        stmt = stmt.where(PriceRecord.meter == meter)
    if currency:
        stmt = stmt.where(PriceRecord.currency == currency.upper())
    if interval:
        stmt = stmt.where(PriceRecord.interval == interval)
    if active is not None:
        stmt = stmt.where(PriceRecord.active.is_(active))
    return _outs(session, list(session.scalars(stmt)))


def find_price(session: Session, principal: Principal, key: str) -> PriceRecord:
    return nearest(session, PriceRecord, readable_sellers(session, principal), key, "price")


def get_price(session: Session, principal: Principal, key: str) -> PriceOut:
    return _outs(session, [find_price(session, principal, key)])[0]


def set_price_active(session: Session, principal: Principal, key: str, active: bool) -> PriceOut:
    """Prices are never edited (plans snapshot them); archive one and create another instead."""
    account = writable_seller(session, principal)
    record = nearest(session, PriceRecord, [account.id], key, "price")
    record.active = active
    session.flush()
    audit.record(
        session, principal, "price.updated", "price", record.key, account.id, active=active
    )
    return _outs(session, [record])[0]
