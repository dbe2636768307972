"""Turn a price definition's pydantic errors into one InvalidInput naming each field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from meterly.errors import InvalidInput
from meterly.pricing.models import MODELS, Price, parse_price

_TIER = re.compile(r"^tiers?\s+(\d+):")
_GROUP = re.compile(r"^group (\d+):")


def _field(loc: tuple[Any, ...], message: str, data: Mapping[str, Any], prefix: str) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in MODELS:  # the discriminated union prefixes the model's tag
        parts = parts[1:]
    # Band checks run on the whole list; point at the tier or group the message names.
    if parts in (["tiers"], ["groups"]):
        text = message.removeprefix("Value error, ")
        if parts == ["tiers"] and (m := _TIER.match(text)):
            parts = ["tiers", m.group(1), "up_to"]
        elif parts == ["tiers"] and "last tier must be open" in text:
            parts = ["tiers", str(len(data.get("tiers") or [1]) - 1), "up_to"]
        elif parts == ["groups"] and (m := _GROUP.match(text)):
            parts = ["groups", m.group(1), "start"]
    return ".".join([prefix, *parts] if prefix else parts)


def details(
    exc: ValidationError, data: Mapping[str, Any], prefix: str = ""
) -> list[dict[str, str]]:
    return [
        {
            "field": _field(tuple(e["loc"]), e["msg"], data, prefix),
            "message": e["msg"].removeprefix("Value error, "),
        }
        for e in exc.errors()
    ]


def invalid_price(exc: ValidationError, data: Mapping[str, Any], prefix: str = "") -> InvalidInput:
    found = details(exc, data, prefix)
    first = found[0] if found else {"field": prefix, "message": "invalid"}
    return InvalidInput(f"invalid price: {first['field']}: {first['message']}", found)


def validate_price(data: Any, prefix: str = "") -> Price:
    """parse_price, with errors as a 422 whose details name fields like `tiers.1.up_to`."""
    if not isinstance(data, Mapping):
        raise InvalidInput(
            "a price is a JSON object",
            [{"field": prefix or "price", "message": "expected an object"}],
        )
    try:
        return parse_price(data)
    except ValidationError as exc:
        raise invalid_price(exc, data, prefix) from None
