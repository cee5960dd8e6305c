"""Domain rules shared by the data-file validator and the write path.

Each rule is a pure function that returns None when the value is acceptable, or a sentence
saying what is wrong. Callers attach the file, line or field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from .choices import SLUG_RE
from .timing import is_valid_zone


def check_slug(value: str) -> str | None:
    """Slugs are lowercase ASCII words joined by single hyphens."""
    if not SLUG_RE.match(value):
        return f"{value!r} is not a slug (lowercase a-z, 0-9 and single hyphens, e.g. 'race-1')"
    return None


def check_zone(name: str) -> str | None:
    """The zone must be an IANA name that pytz knows."""
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
