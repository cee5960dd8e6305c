"""Timing-sheet values: lap and race times, gaps, accent-folded names and derived class
positions. Pure functions shared by the write path, the CSV import and the renderers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

# "1:02:03.456", "2:03.4", "63.456", "+12.345": hours and minutes optional, up to 3 decimals.
_TIME_RE = re.compile(r"^\+?(?:(?:(\d{1,3}):)?([0-5]?\d):)?([0-5]?\d|\d+)(?:[.,](\d{1,3}))?$")
# "1 LAP", "+2 laps", "1L"
_LAPS_RE = re.compile(r"^\+?(\d{1,4})\s*(?:laps?|l)$", re.IGNORECASE)
MAX_TIME_MS = 7 * 24 * 3600 * 1000
# How data files and API bodies write timing-sheet values (stored as numbers).
TIMING_STRINGS = ("total_time", "gap", "best_lap")


def parse_time(text: str) -> int | None:
    """A time such as ``1:23.456`` or ``1:02:03.456`` in milliseconds; None if not a time."""
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if minutes is None and hours is None and int(seconds) >= 60 and fraction is None:
        return None  # "75" alone is more likely a lap count than a time
    ms = (int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)) * 1000
    ms += int((fraction or "0").ljust(3, "0"))
    return ms if 0 <= ms <= MAX_TIME_MS else None


def parse_gap(text: str) -> tuple[int | None, int | None] | None:
    """A gap as (milliseconds, None) or (None, laps); None if it is neither."""
    laps = _LAPS_RE.match(text.strip())
    if laps:
        return None, int(laps.group(1))
    ms = parse_time(text)
    return None if ms is None else (ms, None)


def format_time(ms: int | None) -> str | None:
    """Milliseconds as a timing sheet prints them: ``1:23.456``, ``1:02:03.456``, ``12.345``."""
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{millis:03d}"
    if minutes:
        return f"{minutes}:{secs:02d}.{millis:03d}"
    return f"{secs}.{millis:03d}"


def format_gap(ms: int | None, laps: int | None) -> str | None:
    """A gap as ``+12.345`` or ``+1 lap`` / ``+2 laps``; None when there is none."""
    if laps is not None:
        return f"+{laps} lap" + ("" if laps == 1 else "s")
    if ms is not None:
        return f"+{format_time(ms)}"
    return None


def timing_values(line: dict[str, Any]) -> dict[str, Any]:
    """A result line's timing-sheet strings (``total_time``, ``gap``, ``best_lap``) and
    ``laps``, as a data file or API body gives them, as the stored values."""
    gap = parse_gap(line["gap"]) if line.get("gap") else None
    return {
        "laps": line.get("laps"),
        "total_time_ms": parse_time(line["total_time"]) if line.get("total_time") else None,
        "gap_ms": gap[0] if gap else None,
        "gap_laps": gap[1] if gap else None,
        "best_lap_ms": parse_time(line["best_lap"]) if line.get("best_lap") else None,
    }


def fold(text: str) -> str:
    """A name for matching: accents dropped, case folded, spaces collapsed ("Bäckman" →
    "backman")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace("-", " ").split())


def slugify(text: str) -> str:
    """A slug made from a name: ``GT4 European Series`` → ``gt4-european-series``."""
    return "-".join(re.findall(r"[a-z0-9]+", fold(text)))


def derive_class_positions(
    lines: Sequence[dict[str, Any]], class_of: Iterable[str | None]
) -> list[int | None]:
    """Each line's position within its class, by overall position, for classified lines of
    an entry with a class; a class position the line already gives is kept."""
    classes = list(class_of)
    order = sorted(
        (i for i, line in enumerate(lines) if line.get("position") is not None),
        key=lambda i: lines[i]["position"],
    )
    derived: list[int | None] = [line.get("class_position") for line in lines]
    counters: dict[str, int] = {}
    for i in order:
        car_class = classes[i]
        if car_class is None or lines[i].get("outcome", "classified") != "classified":
            continue
        counters[car_class] = counters.get(car_class, 0) + 1
        if derived[i] is None:
            derived[i] = counters[car_class]
    return derived
