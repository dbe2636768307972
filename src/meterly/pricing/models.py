"""Price definitions: pydantic v2 models, one per pricing model, discriminated on ``model``.

These are data only. Rating compiles a price once into plain tuples (``rating.compile_price``),
so pydantic never sits on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from meterly.pricing.currency import RoundingMode, normalize_currency

Interval = Literal["day", "week", "month", "quarter", "year"]
Timing = Literal["in_advance", "in_arrears"]


# --- Decimal field types ------------------------------------------------------------------------


def _to_decimal(value: Any) -> Any:
    """Accept str, int and Decimal; floats go through repr so 2.9 stays 2.9, not 2.899999…."""
    if isinstance(value, bool):
        raise ValueError("expected a decimal number, not a boolean")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    elif isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


def _percent(value: Decimal) -> Decimal:
    if not 0 <= value <= 100:
        raise ValueError("rate must be between 0 and 100 (a percentage)")
    return value


def _whole(value: Decimal) -> Decimal:
    if value != value.to_integral_value():
        raise ValueError("must be a whole number")
    return value


# Plain-notation strings in JSON: '0.0000001', never '1E-7'.
_AS_STRING = PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")

Amount = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_non_negative), _AS_STRING]
"""A non-negative money amount (or a non-negative quantity)."""
Positive = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_positive), _AS_STRING]
Percent = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_percent), _AS_STRING]
Count = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    AfterValidator(_non_negative),
    AfterValidator(_whole),
    _AS_STRING,
]


class _Strict(BaseModel):
    # Frozen: a compiled rater keeps derived tuples, so the source must not change under it.
    # extra=forbid: a misspelt field ("unit_price") must fail, not silently price at zero.
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- tiers -------------------------------------------------------------------------------------


class Tier(_Strict):
    """One band of a graduated or volume price; either a unit amount or whole blocks."""

    up_to: Positive | None = None
    unit_amount: Amount = Decimal(0)
    flat_amount: Amount = Decimal(0)
    block_size: Positive | None = None
    # validate_default so the pairing check below runs even when block_amount is absent.
    block_amount: Amount | None = Field(default=None, validate_default=True)

    @field_validator("block_amount")
    @classmethod
    def _blocks_pair(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        size = info.data.get("block_size")
        if "block_size" not in info.data:  # block_size itself was invalid; reported there
            return value
        if (size is None) != (value is None):
            raise ValueError("block_size and block_amount must be given together")
        if value is not None and info.data.get("unit_amount", 0) != 0:
            raise ValueError("a tier priced in blocks cannot also have a unit_amount")
        return value


class PercentTier(_Strict):
    """One band of a graduated percentage price: a rate on the volume inside the band."""

    up_to: Positive | None = None
    rate: Percent
    flat_amount: Amount = Decimal(0)


def _check_bands(tiers: Sequence[Tier | PercentTier]) -> None:
    if not tiers:
        raise ValueError("at least one tier is required")
    previous: Decimal | None = None
    for index, tier in enumerate(tiers):
        last = index == len(tiers) - 1
        if tier.up_to is None:
            if not last:
                raise ValueError(f"tier {index}: only the last tier may be open (up_to null)")
            continue
        if last:
            raise ValueError("the last tier must be open (up_to null)")
        if previous is not None and tier.up_to <= previous:
            raise ValueError(
                f"tier {index}: up_to {tier.up_to} must be greater than the previous tier's "
                f"up_to {previous} (tiers must be in order and must not overlap)"
            )
        previous = tier.up_to


# --- common fields -----------------------------------------------------------------------------


class _PriceBase(_Strict):
    product: str | None = None
    meter: str | None = None
    currency: str = "USD"
    interval: Interval = "month"
    timing: Timing = "in_arrears"
    minimum_amount: Amount | None = None
    maximum_amount: Amount | None = None
    rounding_mode: RoundingMode = "half_up"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return normalize_currency(value)

    @field_validator("maximum_amount")
    @classmethod
    def _max_over_min(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        minimum = info.data.get("minimum_amount")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError("maximum_amount must not be less than minimum_amount")
        return value


# --- the models --------------------------------------------------------------------------------


class FlatPrice(_PriceBase):
    model: Literal["flat"]
    amount: Amount


class PerUnitPrice(_PriceBase):
    model: Literal["per_unit"]
    unit_amount: Amount
    free_units: Amount = Decimal(0)


class GraduatedPrice(_PriceBase):
    model: Literal["graduated"]
    tiers: list[Tier]

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[Tier]) -> list[Tier]:
        _check_bands(value)
        return value


class VolumePrice(_PriceBase):
    model: Literal["volume"]
    tiers: list[Tier]

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[Tier]) -> list[Tier]:
        _check_bands(value)
        return value


class PackagePrice(_PriceBase):
    model: Literal["package"]
    package_size: Positive
    package_amount: Amount
    free_units: Amount = Decimal(0)
    rounding: Literal["up", "down"] = "up"


class PercentagePrice(_PriceBase):
    model: Literal["percentage"]
    rate: Percent
    fixed_amount: Amount = Decimal(0)
    free_units: Count = Decimal(0)
    free_amount: Amount = Decimal(0)
    min_per_transaction: Amount | None = None
    max_per_transaction: Amount | None = None

    @field_validator("max_per_transaction")
    @classmethod
    def _max_over_min(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        minimum = info.data.get("min_per_transaction")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError("max_per_transaction must not be less than min_per_transaction")
        return value


class GraduatedPercentagePrice(_PriceBase):
    model: Literal["graduated_percentage"]
    tiers: list[PercentTier]

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[PercentTier]) -> list[PercentTier]:
        _check_bands(value)
        return value


class IncrementGroup(_Strict):
    """A stretch of a call, from ``start`` seconds to the next group's start, at its own rate."""

    start: Amount
    unit_seconds: Positive = Decimal(60)
    unit_amount: Amount
    increment: Positive = Decimal(1)


class CallRounding(_Strict):
    decimals: int = Field(ge=0, le=12)
    mode: Literal["up", "down", "half_up"] = "half_up"


_SINGLE_RATE_FIELDS: Final = ("unit_seconds", "unit_amount", "first_increment", "increment")


class IncrementsPrice(_PriceBase):
    model: Literal["increments"]
    # Single-rate form; None means "not given" so mixing with groups can be detected.
    unit_seconds: Positive | None = None
    unit_amount: Amount | None = None
    first_increment: Amount | None = None
    increment: Positive | None = None
    # Declared after the single-rate fields: its validator reads them from info.data.
    groups: list[IncrementGroup] | None = Field(default=None, validate_default=True)
    connect_fee: Amount = Decimal(0)
    min_per_call: Amount | None = None
    max_per_call: Amount | None = None
    call_rounding: CallRounding | None = None

    @field_validator("groups")
    @classmethod
    def _groups(
        cls, value: list[IncrementGroup] | None, info: ValidationInfo
    ) -> list[IncrementGroup] | None:
        given = [name for name in _SINGLE_RATE_FIELDS if info.data.get(name) is not None]
        if value is None:
            if "unit_amount" not in given and "unit_amount" in info.data:
                raise ValueError("either unit_amount (single rate) or groups is required")
            return value
        if given:
            raise ValueError(
                "groups cannot be combined with the single-rate fields " + ", ".join(given)
            )
        if not value:
            raise ValueError("groups must not be empty")
        if value[0].start != 0:
            raise ValueError("the first group must start at 0")
        for index in range(1, len(value)):
            if value[index].start <= value[index - 1].start:
                raise ValueError(f"group {index}: starts must be strictly increasing")
        return value

    @field_validator("max_per_call")
    @classmethod
    def _max_over_min(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        minimum = info.data.get("min_per_call")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError("max_per_call must not be less than min_per_call")
        return value


Price = Annotated[
    FlatPrice
    | PerUnitPrice
    | GraduatedPrice
    | VolumePrice
    | PackagePrice
    | PercentagePrice
    | GraduatedPercentagePrice
    | IncrementsPrice,
    Field(discriminator="model"),
]
"""Any price definition; pydantic picks the class from the ``model`` field."""

PRICE_ADAPTER: Final[TypeAdapter[Price]] = TypeAdapter(Price)

MODELS: Final = (
    "flat",
    "per_unit",
    "graduated",
    "volume",
    "package",
    "percentage",
    "graduated_percentage",
    "increments",
)

QUANTITY_MODELS: Final = frozenset({"per_unit", "graduated", "volume", "package"})
TRANSACTION_MODELS: Final = frozenset({"percentage", "graduated_percentage", "increments"})


def parse_price(data: Mapping[str, Any] | str | bytes) -> Price:
    """Validate a price from a dict or JSON text; raise pydantic.ValidationError when invalid.

    An unknown or missing ``model`` is reported at loc ``("model",)`` (pydantic's own tagged-union
    error has an empty loc, which names no field).
    """
    if isinstance(data, str | bytes):
        return PRICE_ADAPTER.validate_json(data)
    model = data.get("model") if isinstance(data, Mapping) else None
    if model not in MODELS:
        message = (
            "model is required"
            if model is None
            else f"unknown model {model!r}; expected one of: {', '.join(MODELS)}"
        )
        raise ValidationError.from_exception_data(
            "Price",
            [
                InitErrorDetails(
                    type=PydanticCustomError("unknown_model", message),
                    loc=("model",),
                    input=model,
                )
            ],
        )
    return PRICE_ADAPTER.validate_python(data)


def dump_price(price: Price) -> dict[str, Any]:
    """JSON-ready dict of a price (Decimals as plain strings, unset optional fields left out)."""
    return price.model_dump(mode="json", exclude_none=True)
