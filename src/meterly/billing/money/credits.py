"""Prepaid credit allocation (pure).

Grants apply by priority (lower first), then earliest expiry (never-expiring last), then the
oldest. A grant restricted to products covers at most those products' discounted charges (not
taxes); an unrestricted grant is taken to cover the rest of the invoice first, so it never
crowds a restricted grant out of the lines only that grant may pay for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from meterly.pricing.precision import ZERO

_FAR = datetime.max


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    remaining: Decimal
    priority: int
    expires_at: datetime | None
    created_at: datetime
    products: frozenset[str] = frozenset()


def order_key(g: Grant) -> tuple[int, datetime, datetime, int]:
    expires = g.expires_at.replace(tzinfo=None) if g.expires_at is not None else _FAR
    return (g.priority, expires, g.created_at.replace(tzinfo=None), g.id)


def allocate(
    grants: list[Grant], due: Decimal, product_amounts: dict[str, Decimal]
) -> list[tuple[int, Decimal]]:
    """(grant id, amount) in application order; amounts are positive and sum to at most `due`.

    `product_amounts`: the invoice's discounted charges per product (what restricted grants
    may cover)."""
    left = max(due, ZERO)
    room = {p: max(a, ZERO) for p, a in product_amounts.items()}
    out: list[tuple[int, Decimal]] = []
    for g in sorted(grants, key=order_key):
        if left <= 0:
            break
        if g.remaining <= 0:
            continue
        cap = min(g.remaining, left)
        if g.products:
            cap = min(cap, sum((room.get(p, ZERO) for p in sorted(g.products)), ZERO))
            take = cap
            for p in sorted(g.products):
                used = min(room.get(p, ZERO), take)
                if used > 0:
                    room[p] -= used
                    take -= used
        if cap <= 0:
            continue
        out.append((g.id, cap))
        left -= cap
    return out
