"""Dates as sources write them, to aware UTC datetimes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from schemas.records import EARLIEST_PUBLICATION as EARLIEST
from schemas.records import FUTURE_SLACK


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


def implausible(value: datetime, now: datetime | None = None) -> str | None:
    """Why `value` cannot be a publication date (in the future beyond a day, or before 1990), or None."""
    if value > (now or datetime.now(UTC)) + FUTURE_SLACK:
        return "in the future"
    if value < EARLIEST:
        return f"before {EARLIEST.year}"
    return None


def first_plausible(candidates: Iterable[tuple[str, datetime | None]], now: datetime | None = None,
                    ) -> tuple[datetime | None, list[str]]:
    """The first plausible date of (where it comes from, date) candidates, in order of trust,
    and a note for each implausible one passed over: a bad date costs that date, never the
    article (with none left the load's first_seen_at stands for it)."""
    notes = []
    for where, value in candidates:
        if value is None:
            continue
        if why := implausible(value, now):
            notes.append(f"{where} date {value:%Y-%m-%d} ignored ({why})")
            continue
        return value, notes
    return None, notes
