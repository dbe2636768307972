"""The demo's meters: what Skyline Voice counts from its switch's events."""

from __future__ import annotations

from typing import Any

METERS: list[dict[str, Any]] = [
    {
        "key": "call-seconds-domestic",
        "name": "Domestic call seconds",
        "event_type": "call.completed",
        "aggregation": "sum",
        "value": "$.duration_seconds",
        "filter": [
            {"path": "$.destination", "op": "eq", "value": "domestic"},
            {"path": "$.direction", "op": "eq", "value": "outbound"},
        ],
    },
    {
        "key": "call-seconds-toll-free",
        "name": "Toll-free inbound seconds",
        "event_type": "call.completed",
        "aggregation": "sum",
        "value": "$.duration_seconds",
        "filter": [{"path": "$.destination", "op": "eq", "value": "toll_free"}],
    },
    {
        "key": "call-seconds-international",
        "name": "International call seconds",
        "event_type": "call.completed",
        "aggregation": "sum",
        "value": "$.duration_seconds",
        "group_by": {"country": "$.country"},
        "filter": [{"path": "$.destination", "op": "eq", "value": "international"}],
    },
    {
        "key": "calls",
        "name": "Calls",
        "event_type": "call.completed",
        "aggregation": "count",
        "group_by": {"destination": "$.destination", "direction": "$.direction"},
    },
    {
        "key": "fax-pages",
        "name": "Fax pages",
        "event_type": "fax.sent",
        "aggregation": "sum",
        "value": "$.pages",
    },
    {
        "key": "bridge-participant-minutes",
        "name": "Conference participant minutes",
        "event_type": "conference.ended",
        "aggregation": "sum",
        "value": "$.participant_minutes",
        "group_by": {"bridge": "$.bridge"},
    },
    {
        "key": "active-bridges",
        "name": "Conference bridges used",
        "event_type": "conference.ended",
        "aggregation": "unique_count",
        "value": "$.bridge",
    },
    {
        "key": "storage-gb",
        "name": "Voicemail and recording storage (GB-month)",
        "event_type": "storage.level",
        "aggregation": "time_weighted_avg",
        "value": "$.gb",
    },
    {
        "key": "moh-uploads",
        "name": "Music-on-hold uploads",
        "event_type": "moh.uploaded",
        "aggregation": "count",
    },
    {
        "key": "hardware-amount",
        "name": "Hardware purchases (USD)",
        "event_type": "hardware.purchased",
        "aggregation": "sum",
        "value": "$.amount",
    },
]
