"""API shapes of the catalog (kept apart from the ledger tables)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ProductKind = Literal["seat", "usage", "add_on", "one_off", "service"]
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


def check_key(value: str) -> str:
    if not _KEY.match(value):
        raise ValueError("use 1-100 lowercase letters, digits, '.', '_' or '-'")
    return value


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="Unique per seller, e.g. uc-seat")
    name: str = Field(min_length=1, max_length=300)
    kind: ProductKind
    unit: str | None = Field(None, max_length=50, description="Unit label, e.g. minute, GB")

    _k = field_validator("key")(lambda cls, v: check_key(v))


class ProductPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=300)
    unit: str | None = Field(None, max_length=50)


class ProductOut(BaseModel):
    key: str
    name: str
    kind: ProductKind
    unit: str | None
    seller: str
    created_at: datetime


class FeatureCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    name: str = Field(min_length=1, max_length=300)

    _k = field_validator("key")(lambda cls, v: check_key(v))


class FeatureOut(BaseModel):
    key: str
    name: str
    seller: str
    created_at: datetime


class PriceBookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    name: str = Field(min_length=1, max_length=300)

    _k = field_validator("key")(lambda cls, v: check_key(v))


class PriceBookOut(BaseModel):
    key: str
    name: str
    seller: str
    created_at: datetime


class PriceOut(BaseModel):
    key: str
    price_book: str
    product: str
    meter: str | None
    model: str
    currency: str
    interval: str
    timing: str
    active: bool
    seller: str
    price: dict[str, Any] = Field(description="The validated definition; amounts as strings")
    created_at: datetime


class PricePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    price: dict[str, Any] = Field(description="A price definition; product and meter optional")
    quantity: str | None = Field(None, description="For flat, per_unit, tiered, package")
    transactions: list[str] | None = Field(
        None, description="For percentage, graduated_percentage, increments: one value each"
    )


class PreviewLine(BaseModel):
    description: str
    quantity: str
    unit_amount: str | None
    precise_amount: str
    amount: str


class PreviewOut(BaseModel):
    currency: str
    amount: str
    precise_amount: str
    lines: list[PreviewLine]


class ListOf(BaseModel):
    data: list[Any]
