"""Money steps shared by the pure rules: one rounding to the minor unit, largest-remainder split."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from meterly.pricing.currency import RoundingMode, quantum, round_money
from meterly.pricing.precision import CONTEXT, ZERO

__all__ = ["RoundingMode", "round_money", "split"]


def split(amount: Decimal, weights: list[tuple[int, Decimal]], currency: str) -> dict[int, Decimal]:
    """Split `amount` (on the currency's grid) over positive weights in proportion, exactly:
    shares are floored to the minor unit and the leftover units go to the largest remainders
    (ties: first listed). With amount ≤ Σ weights and weights on the grid, no share exceeds its
    weight — so a discount never takes a line below zero."""
    q = quantum(currency)
    total = sum((w for _, w in weights), ZERO)
    if total <= 0 or amount == 0:
        return {key: ZERO for key, _ in weights}
    shares: dict[int, Decimal] = {}
    fractions: list[tuple[Decimal, int, int]] = []
    for index, (key, w) in enumerate(weights):
        exact = CONTEXT.divide(CONTEXT.multiply(amount, w), total)
        floor = exact.quantize(q, rounding=ROUND_FLOOR, context=CONTEXT)
        shares[key] = floor
        fractions.append((exact - floor, index, key))
    leftover = int(CONTEXT.divide(amount - sum(shares.values(), ZERO), q))
    for _, _, key in sorted(fractions, key=lambda f: (-f[0], f[1]))[:leftover]:
        shares[key] += q
    return shares


def money(value: Decimal, currency: str) -> Decimal:
    """An amount as the API shows it: the currency's minor digits ('2.50', where SQLite gives
    back '2.5' and PostgreSQL '2.500000000000')."""
    return round_money(value, currency)


def plain(value: Decimal) -> Decimal:
    """A rate or quantity without exponent or trailing zeros ('6.625', '10', never '1E+1')."""
    return Decimal(format(value.normalize(), "f"))
