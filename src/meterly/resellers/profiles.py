"""Every seller's billing profile and brand: read with defaults, validate, update, audit.

`profile_for(session, account_id)` is the one read the bill run and documents need: it never
returns None (a seller that configured nothing gets the defaults) and imports nothing from
billing's services, only the `SellerProfile` table.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from meterly.accounts import audit
from meterly.accounts.models import Account
from meterly.accounts.scope import Principal, account_in_scope
from meterly.billing.models import SellerProfile
from meterly.catalog.sellers import writable_seller
from meterly.errors import InvalidInput, NotFound
from meterly.resellers.schemas import ProfileOut, ProfilePatch

DEFAULT_GRACE_HOURS: Final = 72
DEFAULT_NET_TERMS_DAYS: Final = 30
DEFAULT_ROUNDING: Final = "half_up"
FALLBACK_PREFIX: Final = "INV"
LOGO_MAX_BYTES: Final = 2 * 1024 * 1024
_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
# Fields whose null means "back to the default" rather than "cleared".
_DEFAULTED: Final = ("number_prefix", "grace_hours", "net_terms_days", "rounding_mode")


@dataclass(frozen=True, slots=True)
class SellerProfileView:
    """A seller's effective profile: stored values, defaults where nothing is stored."""

    account_id: int
    seller: str
    configured: bool
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


def default_prefix(external_id: str) -> str:
    """The first three letters or digits of the id, uppercased: skyline -> SKY, msp-a -> MSP."""
    letters = re.sub(r"[^A-Za-z0-9]", "", external_id).upper()[:3]
    return letters if len(letters) >= 2 else FALLBACK_PREFIX


def _view(account: Account, row: SellerProfile | None) -> SellerProfileView:
    if row is None:
        return SellerProfileView(
            account.id, account.external_id, False, default_prefix(account.external_id),
            DEFAULT_GRACE_HOURS, DEFAULT_NET_TERMS_DAYS, DEFAULT_ROUNDING, account.name,
            None, None, None, None, None, None, None, None,
        )  # fmt: skip
    return SellerProfileView(
        account.id, account.external_id, True, row.number_prefix, row.grace_hours,
        row.net_terms_days, row.rounding_mode, row.display_name or account.name, row.address,
        row.tax_id, row.logo_url, row.primary_color, row.accent_color, row.invoice_footer,
        row.support_email, row.support_phone,
    )  # fmt: skip


def profile_for(session: Session, account_id: int) -> SellerProfileView:
    """The effective profile of a seller, unscoped: for the bill run and documents, which
    have already decided whose invoice they are building."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return _view(account, session.get(SellerProfile, account_id))


def to_out(view: SellerProfileView) -> ProfileOut:
    data = asdict(view)
    data.pop("account_id")
    return ProfileOut(**data)


def _seller_in_scope(session: Session, principal: Principal, external_id: str) -> Account:
    account = account_in_scope(session, principal, external_id)
    if account.kind == "customer":  # a customer is not a seller: as if it did not exist here
        raise NotFound(f"seller '{external_id}' not found")
    return account


def get_profile(session: Session, principal: Principal, external_id: str) -> ProfileOut:
    account = _seller_in_scope(session, principal, external_id)
    return to_out(_view(account, session.get(SellerProfile, account.id)))


def _sniff(data: bytes) -> bool:
    return len(data) <= LOGO_MAX_BYTES and data.startswith(_MAGIC)


def check_logo(value: str, principal: Principal) -> None:
    """The logo must really be a PNG, JPEG or GIF (by its bytes) of at most 2 MB.

    A file path names a file on the server, so only the operator side (the CLI or the
    provider's key) may set one; a reseller's key sends the image itself as a data: URL —
    otherwise any tenant could probe the server's disk through its invoices.
    """
    if value.lower().startswith("data:"):
        payload = value.partition(",")[2]
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if not _sniff(data):
            raise _bad("logo_url", "the data URL is not a PNG, JPEG or GIF of at most 2 MB")
        return
    if not principal.is_root:
        raise _bad("logo_url", "send the image as a data:image/...;base64, URL")
    path = Path(value)
    try:
        ok = path.is_file() and path.stat().st_size <= LOGO_MAX_BYTES
        ok = ok and _sniff(path.read_bytes())
    except OSError:
        ok = False
    if not ok:
        raise _bad("logo_url", f"'{value}' is not a readable PNG, JPEG or GIF of at most 2 MB")


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def apply_patch(
    session: Session, principal: Principal, account: Account, patch: ProfilePatch
) -> dict[str, Any]:
    """Write the given fields to the seller's stored profile (creating it); returns what
    changed, for the audit log (a logo is recorded as set/cleared, never its bytes)."""
    given = patch.model_dump(exclude_unset=True)
    if given.get("logo_url") is not None:
        check_logo(given["logo_url"], principal)
    row = session.get(SellerProfile, account.id)
    if row is None:
        current = _view(account, None)
        row = SellerProfile(
            account_id=account.id, number_prefix=current.number_prefix,
            grace_hours=current.grace_hours, net_terms_days=current.net_terms_days,
            rounding_mode=current.rounding_mode, display_name=account.name,
        )  # fmt: skip
        session.add(row)
    defaults = _view(account, None)
    changed: dict[str, Any] = {}
    for name, value in given.items():
        if value is None and name in _DEFAULTED:
            value = getattr(defaults, name)
        if getattr(row, name) == value:
            continue
        setattr(row, name, value)
        changed[name] = ("set" if value else "cleared") if name == "logo_url" else value
    session.flush()
    return changed


def update_profile(
    session: Session, principal: Principal, external_id: str, patch: ProfilePatch
) -> ProfileOut:
    """Change a seller's profile: the caller's own or a seller's in its subtree. A customer
    key is refused the way the catalog refuses it (403); a customer account is not a seller."""
    account = writable_seller(session, principal, external_id)
    changed = apply_patch(session, principal, account, patch)
    if changed:
        audit.record(
            session, principal, "seller_profile.updated", "seller_profile",
            account.external_id, account.id, changed=changed,
        )  # fmt: skip
    return to_out(_view(account, session.get(SellerProfile, account.id)))
