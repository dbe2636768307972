"""The one Decimal context used by every pricing computation.

Rating never relies on the thread's ambient context (default precision 28, which a 10^12 quantity
times a 15-digit unit price can exceed); it enters this one instead.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Final

PRECISION: Final = 60

CONTEXT: Final = Context(
    prec=PRECISION,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
HUNDRED: Final = Decimal(100)
