"""Ingest use case: validate a batch, store the valid events durably, report per index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from meterly.accounts.scope import Principal
from meterly.errors import BadRequest, TooLarge
from meterly.ingest.parse import NotJson, Parsed, decode, validate
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
    result = runtime.events.append(parsed.events)
    dup = set(result.duplicate_indexes)
    subjects = {e.subject for e in parsed.events}
    owners = runtime.subjects.resolve_many(subjects)
    # Attributed only within the caller's subtree: a subject outside it never counts for it.
    known = {s for s, o in owners.items() if principal.covers(o.path)}
    unattributed = sum(
        1 for n, e in enumerate(parsed.events) if n not in dup and e.subject not in known
    )
    return IngestResult(
        accepted=result.accepted,
        duplicates=result.duplicates,
        unattributed=unattributed,
        rejected=[r.as_dict() for r in parsed.rejected],
    )


def ingest(runtime: Runtime, principal: Principal, body: bytes) -> IngestResult:
    items = decode_body(body, runtime.settings.max_batch_events)
    parsed = validate(items, tenant_of(principal), datetime.now(UTC))
    return store(runtime, principal, parsed)
