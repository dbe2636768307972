"""Splitting a line's amount among end customers, pro rata, to the cent (pure: no I/O).

Largest remainder: each customer first gets its share rounded down to the currency's minor unit;
the units left over go one each to the customers with the largest remainders (ties: the larger
weight, then the key), so the parts always sum exactly to the amount. A negative amount (a
proration credit) is split as its absolute value and negated. Weights of zero everywhere (a flat
fee at zero usage) split the amount equally.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal, localcontext

from meterly.pricing.precision import CONTEXT


def allocate(amount: Decimal, weights: Mapping[str, Decimal], unit: Decimal) -> dict[str, Decimal]:
    """Parts of `amount` (a multiple of `unit`) per key, proportional to non-negative weights."""
    if not weights:
        return {}
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative")
    if amount < 0:
        return {k: -v for k, v in allocate(-amount, weights, unit).items()}
    with localcontext(CONTEXT):
        total = sum(weights.values(), Decimal(0))
        used = dict(weights) if total > 0 else {k: Decimal(1) for k in weights}
        total = total if total > 0 else Decimal(len(used))
        units = (amount / unit).to_integral_value(rounding=ROUND_FLOOR)
        exact = {k: units * w / total for k, w in used.items()}
        floors = {k: v.to_integral_value(rounding=ROUND_FLOOR) for k, v in exact.items()}
        left = int(units - sum(floors.values(), Decimal(0)))
        order = sorted(used, key=lambda k: (-(exact[k] - floors[k]), -used[k], k))
        for k in order[:left]:
            floors[k] += 1
        return {k: floors[k] * unit for k in used}
