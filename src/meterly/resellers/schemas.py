"""API shapes of seller profiles and reseller onboarding (kept apart from the ledger table)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from meterly.accounts.schemas import AccountCreate, AccountOut, check_currency, check_timezone
from meterly.pricing.currency import RoundingMode

# Invoice numbers read PREFIX-2026-000001: no leading or trailing dash, so never "AB--2026".
PREFIX = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,10}[A-Z0-9])$")
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
DATA_URL = re.compile(r"^data:image/(png|jpeg|gif);base64,", re.IGNORECASE)


def check_prefix(value: str) -> str:
    if not PREFIX.match(value):
        raise ValueError("use 2-12 uppercase letters, digits or dashes (no dash at either end)")
    return value


def check_color(value: str) -> str:
    if not COLOR.match(value):
        raise ValueError("a colour is #RRGGBB, e.g. #0A3D62")
    return value.upper()


def check_email(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError("not an e-mail address")
    return value


def check_logo_shape(value: str) -> str:
    """A data: URL of a PNG/JPEG/GIF or an absolute local path; never a network address,
    because documents are rendered offline and must not make the server fetch anything."""
    if DATA_URL.match(value):
        return value
    if "://" in value:
        raise ValueError("a logo is a data:image/...;base64, URL or a local file path, never a URL")
    if not (PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute()):
        raise ValueError("a logo file path must be absolute")
    return value


class ProfilePatch(BaseModel):
    """Partial update: a field left out is kept; null resets it to its default (or clears it)."""

    model_config = ConfigDict(extra="forbid")
    number_prefix: str | None = Field(None, description="2-12 of A-Z 0-9 -; e.g. SKY")
    grace_hours: int | None = Field(None, ge=0, le=720, description="Draft hours before finalizing")
    net_terms_days: int | None = Field(None, ge=0, le=365, description="Days from issue to due")
    rounding_mode: RoundingMode | None = None
    display_name: str | None = Field(None, min_length=1, max_length=300)
    address: str | None = Field(None, max_length=2000)
    tax_id: str | None = Field(None, max_length=100)
    logo_url: str | None = Field(None, description="data:image/png;base64,... or /abs/path.png")
    primary_color: str | None = None
    accent_color: str | None = None
    invoice_footer: str | None = Field(None, max_length=2000)
    support_email: str | None = Field(None, max_length=300)
    support_phone: str | None = Field(None, max_length=50)

    @field_validator("number_prefix")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        return None if v is None else check_prefix(v)

    @field_validator("primary_color", "accent_color")
    @classmethod
    def _color(cls, v: str | None) -> str | None:
        return None if v is None else check_color(v)

    @field_validator("support_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return None if v is None else check_email(v)

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, v: str | None) -> str | None:
        return None if v is None else check_logo_shape(v)


class ProfileOut(BaseModel):
    seller: str
    configured: bool = Field(description="false: no profile stored yet; these are the defaults")
    number_prefix: str
    grace_hours: int
    net_terms_days: int
    rounding_mode: str
    display_name: str
    address: str | None
    tax_id: str | None
    logo_url: str | None
    primary_color: str | None
    accent_color: str | None
    invoice_footer: str | None
    support_email: str | None
    support_phone: str | None


class ResellerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: str = Field(description="Your id for the reseller; also its event subject")
    name: str = Field(min_length=1, max_length=300)
    parent: str | None = Field(None, description="A seller in your subtree; default: you")
    markup: Decimal = Field(
        Decimal(0), ge=0, le=1000, description="Percent added to every amount, e.g. 35"
    )
    template: str | None = Field(
        None, description="The parent's price book to copy; default wholesale, default, retail"
    )
    number_prefix: str | None = Field(None, description="Default: from the external_id")
    currency: str = "USD"
    timezone: str = "UTC"
    copy_plans: bool = Field(True, description="Copy the parent's plans, marked up")
    key_name: str = Field("admin", min_length=1, max_length=200)
    profile: ProfilePatch | None = Field(None, description="More branding, set in the same step")

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, v: str) -> str:
        # one rule for account ids: the accounts schema's own
        try:
            AccountCreate(external_id=v, name="-")
        except ValidationError as exc:
            raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
        return v

    @field_validator("number_prefix")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        return None if v is None else check_prefix(v)

    _tz = field_validator("timezone")(lambda cls, v: check_timezone(v))
    _cur = field_validator("currency")(lambda cls, v: check_currency(v))


class KeyOut(BaseModel):
    name: str
    prefix: str
    secret: str = Field(description="Shown once; store it now")


class CopiedBook(BaseModel):
    key: str
    template_seller: str | None
    template: str | None = Field(description="The price book copied; null when none existed")
    markup: str
    prices: list[str]
    plans: list[str]


class ResellerOut(BaseModel):
    account: AccountOut
    api_key: KeyOut
    profile: ProfileOut
    price_book: CopiedBook


def as_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
