"""ISO 4217 minor units and the single rounding step from a precise amount to money."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Final, Literal

from meterly.pricing.precision import CONTEXT

RoundingMode = Literal["half_up", "half_even"]

_ROUNDING: Final[dict[str, str]] = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def _codes(text: str) -> list[str]:
    return text.split()


# Minor units (digits after the decimal point) per ISO 4217. Kept as an explicit table rather than
# a dependency: the list changes rarely and an unknown code must fail loudly, not default to 2.
MINOR_UNITS: Final[dict[str, int]] = {
    # 2 decimals
    **dict.fromkeys(_codes("USD EUR GBP CAD AUD NZD CHF SEK NOK DKK MXN BRL INR ZAR SGD HKD"), 2),
    **dict.fromkeys(_codes("CNY PLN CZK HUF ILS TRY AED SAR QAR THB MYR PHP IDR TWD RUB ARS"), 2),
    **dict.fromkeys(_codes("COP PEN EGP NGN KES MAD RON BGN"), 2),
    # 0 decimals
    **dict.fromkeys(_codes("JPY KRW CLP ISK VND PYG UGX XAF XOF"), 0),
    # 3 decimals
    **dict.fromkeys(_codes("BHD KWD OMR JOD TND IQD LYD"), 3),
}

# Quantization exponents are built once; quantize() is the hot part of round_money.
_QUANTUM: Final[dict[str, Decimal]] = {
    code: Decimal(1).scaleb(-digits) for code, digits in MINOR_UNITS.items()
}


class UnknownCurrencyError(ValueError):
    """Raised for a currency code that is not in the ISO 4217 table above."""


def normalize_currency(code: str) -> str:
    """Upper-case and check a currency code; raise UnknownCurrencyError when unknown."""
    upper = code.strip().upper()
    if upper not in MINOR_UNITS:
        raise UnknownCurrencyError(f"unknown currency {code!r} (expected an ISO 4217 code)")
    return upper


def minor_units(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (USD 2, JPY 0, BHD 3)."""
    return MINOR_UNITS[normalize_currency(currency)]


def quantum(currency: str) -> Decimal:
    """The smallest money step of the currency, e.g. Decimal('0.01') for USD."""
    return _QUANTUM[normalize_currency(currency)]


def rounding_constant(mode: RoundingMode) -> str:
    """The decimal module's rounding constant for a price's rounding mode."""
    try:
        return _ROUNDING[mode]
    except KeyError:
        raise ValueError(f"unknown rounding mode {mode!r}") from None


def round_money(amount: Decimal, currency: str, mode: RoundingMode = "half_up") -> Decimal:
    """Round a precise amount once, to the currency's minor unit."""
    return amount.quantize(quantum(currency), rounding=rounding_constant(mode), context=CONTEXT)
