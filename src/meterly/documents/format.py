"""How numbers, money and dates read on a document. Pure: no I/O, no ORM.

Display strings (`money`, `quantity`, `unit_price`) are for people: grouped thousands and a
currency symbol. `plain` is for machines (the CSV): no grouping, no symbol, no exponent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from meterly.pricing.currency import minor_units, quantum
from meterly.pricing.precision import CONTEXT

# Only symbols no reader can mistake: "$" alone means USD to the reference customers; CAD, AUD
# and the rest keep their ISO code. Every symbol here exists in the PDF's WinAnsi fonts.
SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def plain(value: Decimal) -> str:
    """Exact, without exponent or trailing zeros: '1234.5', '10', '0.015'."""
    text = format(value.normalize(context=CONTEXT), "f")
    return "0" if text in ("-0", "") else text


def money_plain(value: Decimal, currency: str) -> str:
    """An amount at the currency's minor units, no symbol: '1234.50', '-3.00', JPY '1200'."""
    rounded = value.quantize(quantum(currency), context=CONTEXT)
    text = format(rounded, "f")
    return text[1:] if text.startswith("-") and rounded == 0 else text


def _grouped(text: str) -> str:
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = text.partition(".")
    return f"{sign}{int(whole):,}" + (f".{frac}" if frac else "")


def money(value: Decimal, currency: str) -> str:
    """'$1,234.50', '-$12.00', 'CAD 99.00', '¥1,200'. The minus is ASCII: WinAnsi has no U+2212."""
    text = _grouped(money_plain(value, currency))
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency.upper()} {digits}"


def quantity(value: Decimal) -> str:
    """'1,234.5', '14', '0.25': exact, grouped, never '1E+1' or '14.000000000000'."""
    return _grouped(plain(value))


def unit_price(value: Decimal, currency: str) -> str:
    """A unit price keeps the decimals it was set with ('$0.015'), at least the minor units
    ('$20.00'): per-minute rates are often finer than a cent."""
    digits = minor_units(currency)
    text = plain(value)
    frac = text.partition(".")[2]
    if len(frac) < digits:
        text = format(Decimal(text).quantize(quantum(currency), context=CONTEXT), "f")
    grouped = _grouped(text)
    sign, body = ("-", grouped[1:]) if grouped.startswith("-") else ("", grouped)
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{currency.upper()} {body}"


def local_date(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def long_date(d: date) -> str:
    """'Nov 1, 2026' — unambiguous across US and European readers (unlike 11/01/2026)."""
    return f"{d.strftime('%b')} {d.day}, {d.year}"


def last_day(end: datetime, tz: str) -> date:
    """The last day a half-open period [start, end) covers: Dec 1 00:00 → Nov 30."""
    return local_date(end - timedelta(microseconds=1), tz)


def period_label(start: datetime, end: datetime, tz: str) -> str:
    """'Nov 1 – Nov 30, 2026'; 'Dec 20, 2026 – Jan 19, 2027'; one day → 'Nov 5, 2026'."""
    first = local_date(start, tz)
    last = last_day(end, tz) if end > start else first
    if last <= first:
        return long_date(first)
    if first.year == last.year:
        return f"{first.strftime('%b')} {first.day} – {long_date(last)}"
    return f"{long_date(first)} – {long_date(last)}"
