"""Domain rules shared by the data-file validator and the write path.

Each rule is a pure function that returns None when the value is acceptable, or a sentence
saying what is wrong. Callers attach the file, line or field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from .choices import SLUG_RE, UTC_OFFSET_PATTERN
from .timing import gap_around, is_valid_zone, long_day, offset_text, offsets_at


def check_slug(value: str) -> str | None:
    """Slugs are lowercase ASCII words joined by single hyphens."""
    if not SLUG_RE.match(value):
        return f"{value!r} is not a slug (lowercase a-z, 0-9 and single hyphens, e.g. 'race-1')"
    return None


def check_zone(name: str) -> str | None:
    """The zone must be an IANA name that ``zoneinfo`` knows."""
    if not is_valid_zone(name):
        return f"unknown time zone {name!r} (use an IANA name such as 'Europe/Paris')"
    return None


def parse_date(value: str) -> dt.date | None:
    """Parse YYYY-MM-DD strictly; None if it is not a real date."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse_time(value: str) -> dt.time | None:
    """Parse HH:MM (24-hour) strictly; None if it is not a real time."""
    if not re.fullmatch(r"\d{2}:\d{2}", value):
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        return None


def parse_offset(value: str) -> dt.timedelta | None:
    """Parse a UTC offset such as "+01:00" or "-05:00" strictly; None otherwise."""
    if not isinstance(value, str) or not re.match(UTC_OFFSET_PATTERN, value):
        return None
    offset = dt.timedelta(hours=int(value[1:3]), minutes=int(value[4:6]))
    return -offset if value[0] == "-" else offset


def check_local_time(day: dt.date, time: dt.time, zone_name: str) -> str | None:
    """The wall time must exist on that day in that zone (not be skipped by clocks going
    forward). The message names the gap and the two nearest valid times."""
    local = dt.datetime.combine(day, time)
    gap = gap_around(local, zone_name)
    if gap is None:
        return None
    before = gap.start - dt.timedelta(minutes=1)
    return (
        f"{time:%H:%M} does not exist on {long_day(day)} in {zone_name} (clocks go from "
        f"{gap.start:%H:%M} to {gap.end:%H:%M}); the nearest valid times are "
        f"{before:%H:%M} and {gap.end:%H:%M}"
    )


def choose_fold(
    day: dt.date | None, time: dt.time | None, zone_name: str, utc_offset: str | None
) -> tuple[int, str | None]:
    """Which occurrence of a wall time a session means: (fold, problem).

    Without ``utc_offset`` a repeated wall time is its first occurrence (RFC 5545 §3.3.5),
    fold 0. With it, the offset must be one the wall time has that day; naming the second
    occurrence of a repeated time gives fold 1.
    """
    if utc_offset is None:
        return 0, None
    offset = parse_offset(utc_offset)
    if offset is None:
        return 0, f"{utc_offset!r} is not a UTC offset (write e.g. '+01:00' or '-05:00')"
    if day is None or time is None:
        return 0, "a utc_offset needs a date and a time"
    offsets = offsets_at(dt.datetime.combine(day, time), zone_name)
    if offset not in offsets:
        has = " or ".join(offset_text(o) for o in offsets) or "no offset"
        return 0, (
            f"{time:%H:%M} on {long_day(day)} in {zone_name} is at UTC{has}, "
            f"not {offset_text(offset)}"
        )
    return offsets.index(offset), None


def parse_instant(value: str) -> dt.datetime | None:
    """Parse an ISO 8601 date-time with an explicit offset or Z; None otherwise."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(dt.UTC)


def check_date_order(start: dt.date, end: dt.date) -> str | None:
    """A round may not end before it starts."""
    if end < start:
        return f"end {end.isoformat()} is before start {start.isoformat()}"
    return None


def check_session_day(day: dt.date, start: dt.date, end: dt.date) -> str | None:
    """A session's day must fall within its round's dates."""
    if not start <= day <= end:
        return (
            f"session date {day.isoformat()} is outside its round's dates "
            f"{start.isoformat()} to {end.isoformat()}"
        )
    return None


def check_result_line(outcome: str, position: int | None) -> str | None:
    """A classified result needs a position."""
    if outcome == "classified" and position is None:
        return "a classified result needs a position"
    return None


def duplicates(values: Iterable[object]) -> list[object]:
    """The values that occur more than once, in first-seen order."""
    seen: set[object] = set()
    dupes: list[object] = []
    for value in values:
        if value in seen and value not in dupes:
            dupes.append(value)
        seen.add(value)
    return dupes
