"""API shapes of the accounts domain (kept apart from the ledger tables)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

AccountKind = Literal["provider", "reseller", "customer"]
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}$")


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone '{value}'") from exc
    return value


def check_currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("currency must be an ISO 4217 code such as USD")
    return value


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(description="Your id for the account; also its event subject")
    name: str = Field(min_length=1, max_length=300)
    kind: Literal["reseller", "customer"] = "customer"
    parent: str | None = Field(default=None, description="Parent external_id; default: yours")
    currency: str = "USD"
    timezone: str = "UTC"
    subject_aliases: list[str] = Field(default_factory=list)

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, v: str) -> str:
        if not _EXTERNAL_ID.match(v):
            raise ValueError(
                "use 1-200 letters, digits and . _ : @ + - (starting with a letter or digit)"
            )
        return v

    @field_validator("subject_aliases")
    @classmethod
    def _aliases(cls, v: list[str]) -> list[str]:
        for alias in v:
            if not alias or len(alias) > 200:
                raise ValueError("an alias is 1-200 characters")
        if len(set(v)) != len(v):
            raise ValueError("aliases repeat")
        return v

    _tz = field_validator("timezone")(lambda cls, v: check_timezone(v))
    _cur = field_validator("currency")(lambda cls, v: check_currency(v))


class AccountOut(BaseModel):
    external_id: str
    name: str
    kind: AccountKind
    parent: str | None
    currency: str
    timezone: str
    subject_aliases: list[str]
    created_at: datetime


class AccountList(BaseModel):
    data: list[AccountOut]
    next_cursor: str | None = None
