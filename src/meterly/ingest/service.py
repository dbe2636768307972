"""Ingest use case: validate a batch, store the valid events durably, report per index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from meterly.accounts.scope import Principal
from meterly.errors import BadRequest, TooLarge
from meterly.ingest.parse import NotJson, Parsed, decode, fast, validate
from meterly.runtime import Runtime


@dataclass(slots=True)
class IngestResult:
    accepted: int
    duplicates: int
    unattributed: int
    rejected: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "unattributed": self.unattributed,
            "rejected": self.rejected,
        }


def tenant_of(principal: Principal) -> str:
    """Events are keyed by the ingesting account: (tenant, source, id) is the dedup key."""
    return str(principal.account_id)


def decode_body(body: bytes, max_events: int) -> list[Any]:
    try:
        items = decode(body)
    except NotJson as exc:
        raise BadRequest(str(exc)) from None
    if len(items) > max_events:
        raise TooLarge(f"{len(items)} events in one request; send at most {max_events} per call")
    return items


def store(runtime: Runtime, principal: Principal, parsed: Parsed) -> IngestResult:
    result = runtime.events.append_batch(parsed.batch)
    subjects = parsed.batch.subject
    owners = runtime.subjects.resolve_many(set(subjects))
    # Attributed only within the caller's subtree: a subject outside it never counts for it.
    known = {s for s, o in owners.items() if principal.covers(o.path)}
    unattributed = 0
    if not known.issuperset(subjects):
        dup = set(result.duplicate_indexes)
        unattributed = sum(1 for n, s in enumerate(subjects) if n not in dup and s not in known)
    return IngestResult(
        accepted=result.accepted,
        duplicates=result.duplicates,
        unattributed=unattributed,
        rejected=[r.as_dict() for r in parsed.rejected],
    )


def parse_body(body: bytes, tenant: str, max_events: int) -> Parsed:
    """The typed fast path when the whole body passes it, else per-item validation."""
    now = datetime.now(UTC)
    parsed = fast(body, tenant, now)
    if parsed is None:
        return validate(decode_body(body, max_events), tenant, now)
    if len(parsed.batch) > max_events:
        raise TooLarge(
            f"{len(parsed.batch)} events in one request; send at most {max_events} per call"
        )
    return parsed


def ingest(runtime: Runtime, principal: Principal, body: bytes) -> IngestResult:
    parsed = parse_body(body, tenant_of(principal), runtime.settings.max_batch_events)
    return store(runtime, principal, parsed)
