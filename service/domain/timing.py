"""Session time rules: local wall time plus the circuit's zone in, derived UTC instants out.

pytz zones must be applied with ``zone.localize(naive)``; ``datetime(..., tzinfo=zone)`` would
silently use the zone's first (local mean time) offset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import pytz

from .models import Session
from .wording import TIME_TBC


@lru_cache(maxsize=512)
def zone(name: str) -> pytz.BaseTzInfo:
    """The pytz zone for an IANA name; raises ``pytz.UnknownTimeZoneError`` if unknown."""
    return pytz.timezone(name)


def is_valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone that pytz knows."""
    try:
        zone(name)
    except (pytz.UnknownTimeZoneError, ValueError):
        return False
    return True


def utc_iso(value: dt.datetime) -> str:
    """An RFC 3339 UTC instant with a Z, the one spelling every output uses."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def localize(local: dt.datetime, zone_name: str) -> dt.datetime:
    """Attach ``zone_name`` to a naive local wall time.

    In a DST gap or fold the standard-time reading is taken (``is_dst=False``), so the same
    data always gives the same instant.
    """
    return zone(zone_name).localize(local, is_dst=False)


@dataclass(frozen=True)
class SessionTime:
    """A session's time as every output needs it. ``start_local`` is None when not timed."""

    date: dt.date | None
    start_local: dt.datetime | None
    end_local: dt.datetime | None
    zone: str

    @property
    def timed(self) -> bool:
        """Whether both day and clock time are known."""
        return self.start_local is not None

    @property
    def start_utc(self) -> dt.datetime | None:
        """The derived UTC start instant, or None."""
        return self.start_local.astimezone(dt.UTC) if self.start_local else None

    @property
    def end_utc(self) -> dt.datetime | None:
        """The derived UTC end instant, or None."""
        return self.end_local.astimezone(dt.UTC) if self.end_local else None


def session_time(session: Session) -> SessionTime:
    """Derive a session's local and UTC times from its stored wall time and circuit zone."""
    zone_name = session.round.circuit.timezone
    if session.local_date is None or session.local_time is None:
        return SessionTime(session.local_date, None, None, zone_name)
    start = localize(dt.datetime.combine(session.local_date, session.local_time), zone_name)
    end = None
    if session.duration_minutes:
        # Add in UTC, then convert back: a session across a DST change keeps its real length.
        end_utc = start.astimezone(dt.UTC) + dt.timedelta(minutes=session.duration_minutes)
        end = end_utc.astimezone(zone(zone_name))
    return SessionTime(session.local_date, start, end, zone_name)


def describe_local(st: SessionTime) -> str:
    """A human line such as "Sat 3 June 14:00 CEST", "Sat 3 June, time TBC" or "date TBC"."""
    if st.date is None:
        return "date and time TBC"
    day = f"{st.date:%a} {st.date.day} {st.date:%B}"
    if st.start_local is None:
        return f"{day}, {TIME_TBC}"
    return f"{day} {st.start_local:%H:%M %Z}"
