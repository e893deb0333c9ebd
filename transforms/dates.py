"""Dates as sources write them, to aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_iso(value) -> datetime | None:
    """An ISO 8601 date or time ('Z' allowed) as UTC; None for anything else, never raises.
    A time without a zone is taken as UTC; a date alone as its UTC midnight."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
