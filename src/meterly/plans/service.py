"""Plans use cases: create, read, edit (a new version each time), and version specs for billing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.scope import Principal
from meterly.catalog.models import Feature, Product
from meterly.catalog.sellers import external_ids, readable_sellers, writable_seller
from meterly.catalog.service import check_meter, find_price, nearest
from meterly.catalog.validation import validate_price
from meterly.errors import Conflict, InvalidInput, NotFound
from meterly.plans.models import Plan, PlanEntitlement, PlanVersion
from meterly.plans.schemas import (
    ChargeIn,
    ChargeOut,
    EntitlementIn,
    EntitlementOut,
    PlanCreate,
    PlanOut,
    PlanPatch,
)
from meterly.pricing.currency import UnknownCurrencyError, normalize_currency
from meterly.pricing.models import QUANTITY_MODELS, TRANSACTION_MODELS, dump_price
from meterly.subscriptions.lines import Charge, VersionSpec


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def _currency(value: str, field: str = "currency") -> str:
    try:
        return normalize_currency(value)
    except UnknownCurrencyError as exc:
        raise _bad(field, str(exc)) from None


def build_charge(
    session: Session,
    principal: Principal,
    sellers: list[int],
    charge: ChargeIn,
    index: int,
    currency: str,
    interval: str,
) -> dict[str, Any]:
    """Validate one charge and snapshot its price definition."""
    at = f"charges.{index}"
    try:
        product = nearest(session, Product, sellers, charge.product, "product")
    except NotFound as exc:
        raise _bad(f"{at}.product", exc.message) from None
    if (charge.price is None) == (charge.price_key is None):
        raise _bad(f"{at}.price", "give either price (a definition) or price_key")
    if charge.price_key is not None:
        try:
            data = dict(find_price(session, principal, charge.price_key).definition)
        except NotFound as exc:
            raise _bad(f"{at}.price_key", exc.message) from None
    else:
        assert charge.price is not None
        data = {"product": product.key, **charge.price}
        if charge.meter and "meter" not in charge.price:
            data["meter"] = charge.meter
    price = validate_price(data, prefix=f"{at}.price")
    if price.product not in (None, product.key):
        raise _bad(
            f"{at}.price.product", f"the price is for '{price.product}', not '{product.key}'"
        )
    if price.currency != currency:
        raise _bad(f"{at}.price.currency", f"must be the plan's currency {currency}")
    if product.kind != "one_off" and price.interval != interval:
        raise _bad(f"{at}.price.interval", f"must be the plan's interval '{interval}'")
    meter = charge.meter or price.meter
    if product.kind == "usage":
        if meter is None:
            raise _bad(f"{at}.meter", "a usage charge names a meter")
        if price.model not in QUANTITY_MODELS | TRANSACTION_MODELS:
            raise _bad(f"{at}.price.model", "a usage charge needs a usage-based model")
        check_meter(session, principal, meter, f"{at}.meter")
    elif price.model in TRANSACTION_MODELS:
        raise _bad(
            f"{at}.price.model", f"a {product.kind} charge cannot use per-transaction prices"
        )
    return {
        "product": product.key,
        "kind": product.kind,
        "meter": meter if product.kind == "usage" else None,
        "description": charge.description or product.name,
        "price": dump_price(price),
        **({"wholesale": charge.wholesale} if charge.wholesale != "pooled" else {}),
    }


def build_entitlement(
    session: Session, principal: Principal, sellers: list[int], e: EntitlementIn, index: int
) -> PlanEntitlement:
    at = f"entitlements.{index}"
    try:
        nearest(session, Feature, sellers, e.feature, "feature")
    except NotFound as exc:
        raise _bad(f"{at}.feature", exc.message) from None
    limit: Decimal | None = None
    if e.limit is not None:
        try:
            limit = Decimal(e.limit)
        except InvalidOperation:
            raise _bad(f"{at}.limit", "not a decimal number") from None
        if not limit.is_finite() or limit < 0:
            raise _bad(f"{at}.limit", "must be a non-negative number")
        if e.meter is None:
            raise _bad(f"{at}.meter", "a metered limit names the meter it counts")
    check_meter(session, principal, e.meter, f"{at}.meter")
    return PlanEntitlement(
        feature=e.feature, enabled=e.enabled, limit=limit, meter=e.meter, hard=e.hard
    )


def _new_version(
    session: Session,
    principal: Principal,
    plan: Plan,
    version: int,
    name: str,
    currency: str,
    interval: str,
    charges: list[ChargeIn],
    entitlements: list[EntitlementIn],
) -> PlanVersion:
    sellers = [
        plan.seller_id,
        *[s for s in readable_sellers(session, principal) if s != plan.seller_id],
    ]
    features = [e.feature for e in entitlements]
    if len(set(features)) != len(features):
        raise _bad("entitlements", "a feature appears twice")
    built = [
        build_charge(session, principal, sellers, c, i, currency, interval)
        for i, c in enumerate(charges)
    ]
    rows = [
        build_entitlement(session, principal, sellers, e, i) for i, e in enumerate(entitlements)
    ]
    pv = PlanVersion(
        plan_id=plan.id,
        version=version,
        name=name,
        currency=currency,
        interval=interval,
        charges=built,
    )
    session.add(pv)
    session.flush()
    for row in rows:
        row.plan_version_id = pv.id
        session.add(row)
    session.flush()
    return pv


def create_plan(
    session: Session, principal: Principal, body: PlanCreate, seller: str | None = None
) -> PlanOut:
    account = writable_seller(session, principal, seller)
    if session.scalar(select(Plan.id).where(Plan.seller_id == account.id, Plan.key == body.key)):
        raise Conflict(
            f"plan '{body.key}' exists; edit it to make a new version",
            [{"field": "key", "message": "taken"}],
        )
    plan = Plan(
        seller_id=account.id, key=body.key, ladder=body.ladder, level=body.level, latest_version=1
    )
    session.add(plan)
    session.flush()
    pv = _new_version(
        session, principal, plan, 1, body.name, _currency(body.currency), body.interval,
        body.charges, body.entitlements,
    )  # fmt: skip
    audit.record(session, principal, "plan.created", "plan", plan.key, account.id)
    return plan_out(session, plan, pv)


def update_plan(session: Session, principal: Principal, key: str, body: PlanPatch) -> PlanOut:
    account = writable_seller(session, principal)
    plan = nearest(session, Plan, [account.id], key, "plan")
    given = body.model_dump(exclude_unset=True)
    if "ladder" in given:
        plan.ladder = body.ladder
    if "level" in given:
        plan.level = body.level
    versioned = {"name", "currency", "interval", "charges", "entitlements"} & given.keys()
    current = version_of(session, plan, plan.latest_version)
    if versioned:
        charges = (
            body.charges if body.charges is not None else [_charge_in(c) for c in current.charges]
        )
        ents = (
            body.entitlements
            if body.entitlements is not None
            else [_entitlement_in(e) for e in entitlements_of(session, current.id)]
        )
        current = _new_version(
            session, principal, plan, plan.latest_version + 1, body.name or current.name,
            _currency(body.currency or current.currency), body.interval or current.interval,
            charges, ents,
        )  # fmt: skip
        plan.latest_version = current.version
    session.flush()
    audit.record(
        session,
        principal,
        "plan.updated",
        "plan",
        plan.key,
        account.id,
        version=plan.latest_version,
    )
    return plan_out(session, plan, current)


def _charge_in(c: dict[str, Any]) -> ChargeIn:
    return ChargeIn(
        product=c["product"],
        price=c["price"],
        meter=c["meter"],
        description=c["description"],
        wholesale=c.get("wholesale", "pooled"),
    )


def _entitlement_in(e: PlanEntitlement) -> EntitlementIn:
    limit = None if e.limit is None else format(e.limit, "f")
    return EntitlementIn(
        feature=e.feature, enabled=e.enabled, limit=limit, meter=e.meter, hard=e.hard
    )


def find_plan(session: Session, principal: Principal, key: str) -> Plan:
    return nearest(session, Plan, readable_sellers(session, principal), key, "plan")


def version_of(session: Session, plan: Plan, version: int | None) -> PlanVersion:
    number = version or plan.latest_version
    pv = session.scalar(
        select(PlanVersion).where(PlanVersion.plan_id == plan.id, PlanVersion.version == number)
    )
    if pv is None:
        raise NotFound(f"plan '{plan.key}' has no version {number}")
    return pv


def entitlements_of(session: Session, version_id: int) -> list[PlanEntitlement]:
    stmt = select(PlanEntitlement).where(PlanEntitlement.plan_version_id == version_id)
    return list(session.scalars(stmt.order_by(PlanEntitlement.feature)))


def plan_out(session: Session, plan: Plan, pv: PlanVersion) -> PlanOut:
    return PlanOut(
        key=plan.key, name=pv.name, version=pv.version, latest_version=plan.latest_version,
        currency=pv.currency, interval=pv.interval, ladder=plan.ladder, level=plan.level,
        seller=external_ids(session, {plan.seller_id})[plan.seller_id],
        charges=[ChargeOut(**c) for c in pv.charges],
        entitlements=[
            EntitlementOut(
                feature=e.feature, enabled=e.enabled, meter=e.meter, hard=e.hard,
                limit=None if e.limit is None else format(e.limit, "f"),
            )
            for e in entitlements_of(session, pv.id)
        ],
        created_at=pv.created_at,
    )  # fmt: skip


def get_plan(
    session: Session, principal: Principal, key: str, version: int | None = None
) -> PlanOut:
    plan = find_plan(session, principal, key)
    return plan_out(session, plan, version_of(session, plan, version))


def list_versions(session: Session, principal: Principal, key: str) -> list[PlanOut]:
    plan = find_plan(session, principal, key)
    rows = session.scalars(
        select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.version)
    )
    return [plan_out(session, plan, pv) for pv in rows]


def list_plans(
    session: Session, principal: Principal, ladder: str | None = None, seller: str | None = None
) -> list[PlanOut]:
    """Latest versions; a ladder's plans come in level order."""
    stmt = (
        select(Plan, PlanVersion)
        .join(
            PlanVersion,
            (PlanVersion.plan_id == Plan.id) & (PlanVersion.version == Plan.latest_version),
        )
        .where(Plan.seller_id.in_(readable_sellers(session, principal, seller)))
    )
    if ladder:
        stmt = stmt.where(Plan.ladder == ladder)
    rows = list(session.execute(stmt.order_by(Plan.ladder, Plan.level, Plan.key)))
    return [plan_out(session, plan, pv) for plan, pv in rows]


def version_spec(pv: PlanVersion) -> VersionSpec:
    charges = tuple(
        Charge(
            c["product"],
            c["kind"],
            c["price"],
            c.get("meter"),
            c.get("description", ""),
            c.get("wholesale", "pooled"),
        )
        for c in pv.charges
    )
    return VersionSpec(pv.id, pv.currency, pv.interval, charges)  # type: ignore[arg-type]
