"""Pure pricing rules: price definitions, rating, currency rounding, periods and proration.

Nothing here does I/O or imports SQLAlchemy or FastAPI.
"""

from meterly.pricing.currency import (
    MINOR_UNITS,
    RoundingMode,
    UnknownCurrencyError,
    minor_units,
    round_money,
)
from meterly.pricing.models import (
    PRICE_ADAPTER,
    CallRounding,
    FlatPrice,
    GraduatedPercentagePrice,
    GraduatedPrice,
    IncrementGroup,
    IncrementsPrice,
    Interval,
    PackagePrice,
    PercentagePrice,
    PercentTier,
    PerUnitPrice,
    Price,
    Tier,
    Timing,
    VolumePrice,
    dump_price,
    parse_price,
)
from meterly.pricing.rating import Rater, compile_price, rate
from meterly.pricing.result import Rating, RatingInputError, RatingLine

__all__ = [
    "MINOR_UNITS",
    "PRICE_ADAPTER",
    "CallRounding",
    "FlatPrice",
    "GraduatedPercentagePrice",
    "GraduatedPrice",
    "IncrementGroup",
    "IncrementsPrice",
    "Interval",
    "PackagePrice",
    "PerUnitPrice",
    "PercentTier",
    "PercentagePrice",
    "Price",
    "Rater",
    "Rating",
    "RatingInputError",
    "RatingLine",
    "RoundingMode",
    "Tier",
    "Timing",
    "UnknownCurrencyError",
    "VolumePrice",
    "compile_price",
    "dump_price",
    "minor_units",
    "parse_price",
    "rate",
    "round_money",
]
