"""API shapes of meters and usage."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meterly.metering import spec as rules

AggregationName = Literal[
    "count", "sum", "min", "max", "avg", "unique_count", "latest", "time_weighted_avg"
]
_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


def _check_path(v: str) -> str:
    rules.parse_path(v)  # raises ValueError with the reason
    return v


class ConditionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="JSONPath into data, e.g. $.direction")
    op: Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte"]
    value: Any

    _p = field_validator("path")(lambda cls, v: _check_path(v))

    @model_validator(mode="after")
    def _value_shape(self) -> ConditionIn:
        if self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"'{self.op}' needs a non-empty list of values")
        elif isinstance(self.value, (list, dict)):
            raise ValueError(f"'{self.op}' compares with one value, not a list or object")
        return self


class _MeterFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("value", check_fields=False)
    @classmethod
    def _value(cls, v: str | None) -> str | None:
        return _check_path(v) if v is not None else v

    @field_validator("group_by", check_fields=False)
    @classmethod
    def _group_by(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        for name, path in (v or {}).items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
                raise ValueError(f"dimension name '{name}' must be a letter then letters/digits/_")
            _check_path(path)
        return v


class MeterCreate(_MeterFields):
    key: str = Field(description="Stable identifier, e.g. call-minutes")
    name: str = Field(min_length=1, max_length=300)
    event_type: str = Field(min_length=1, max_length=256)
    aggregation: AggregationName
    value: str | None = Field(None, description="JSONPath into data; needed except for count")
    group_by: dict[str, str] = Field(default_factory=dict, description="dimension -> JSONPath")
    filter: list[ConditionIn] = Field(default_factory=list, description="all must hold (and)")

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not _KEY.match(v):
            raise ValueError("use 1-100 lowercase letters, digits, '.', '_' or '-'")
        return v

    @model_validator(mode="after")
    def _needs_value(self) -> MeterCreate:
        if self.aggregation != "count" and not self.value:
            raise ValueError(f"aggregation '{self.aggregation}' needs a value path")
        return self


class MeterPatch(_MeterFields):
    name: str | None = Field(None, min_length=1, max_length=300)
    event_type: str | None = None
    aggregation: AggregationName | None = None
    value: str | None = None
    group_by: dict[str, str] | None = None
    filter: list[ConditionIn] | None = None


class MeterOut(BaseModel):
    key: str
    name: str
    event_type: str
    aggregation: str
    value: str | None
    group_by: dict[str, str]
    filter: list[dict[str, Any]]
    owner: str
    created_at: datetime
    updated_at: datetime


class MeterList(BaseModel):
    data: list[MeterOut]


class UsageRowOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: datetime = Field(alias="from")
    to: datetime
    subject: str | None
    dimensions: dict[str, str | None]
    value: str = Field(description="exact decimal as a string")


class UsageOut(BaseModel):
    meter: str
    aggregation: str
    window: str | None
    tz: str
    from_: datetime = Field(alias="from")
    to: datetime
    rows: list[UsageRowOut]
