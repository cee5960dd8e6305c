"""Session time rules: local wall time plus the circuit's zone in, derived UTC instants out.

Zones come from the standard library's ``zoneinfo`` (the IANA database of the system, or the
``tzdata`` package where the system has none), the same oracle the tests compare against.

A wall time has one of three shapes on its day (RFC 5545 §3.3.5):

- ordinary: one instant;
- repeated (clocks go back, the "fold"): two instants; the first occurrence unless the
  session says otherwise (``fold`` 1, chosen at the write path with ``utc_offset``);
- skipped (clocks go forward, the "gap"): no instant; the write path refuses it. A value
  stored before that rule is read with the offset in force before the gap, as RFC 5545 says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .models import Session
from .wording import TIME_TBC

UTC = dt.UTC


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone for an IANA name; raises ``ZoneInfoNotFoundError`` if unknown."""
    if name not in _zone_names():
        raise ZoneInfoNotFoundError(f"unknown time zone {name!r}")
    return ZoneInfo(name)


def is_valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone name (``zoneinfo.available_timezones()``)."""
    return isinstance(name, str) and name in _zone_names()


def utc_iso(value: dt.datetime) -> str:
    """An RFC 3339 UTC instant with a Z, the one spelling every output uses."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def localize(local: dt.datetime, zone_name: str, fold: int = 0) -> dt.datetime:
    """Attach ``zone_name`` to a naive local wall time.

    A repeated wall time is its first occurrence (``fold`` 0) or its second (``fold`` 1); a
    skipped one takes the offset in force before the gap (RFC 5545 §3.3.5).
    """
    return local.replace(tzinfo=zone(zone_name), fold=fold)


def offsets_at(local: dt.datetime, zone_name: str) -> tuple[dt.timedelta, ...]:
    """The UTC offsets ``local`` has in the zone: one, two when repeated (first occurrence
    first), none when skipped."""
    tz = zone(zone_name)
    found: list[dt.timedelta] = []
    for fold in (0, 1):
        aware = local.replace(tzinfo=tz, fold=fold)
        offset = aware.utcoffset()
        assert offset is not None
        # A wall time exists with this offset only if the instant reads back as the same wall.
        back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back == local and offset not in found:
            found.append(offset)
    return tuple(found)


def is_ambiguous(local: dt.datetime, zone_name: str) -> bool:
    """Whether ``local`` happens twice in the zone (clocks go back)."""
    return len(offsets_at(local, zone_name)) > 1


@dataclass(frozen=True)
class Gap:
    """Wall-clock times skipped when clocks go forward: ``start`` <= t < ``end``."""

    start: dt.datetime
    end: dt.datetime


def gap_around(local: dt.datetime, zone_name: str) -> Gap | None:
    """The gap ``local`` falls in, or None if the wall time exists."""
    if offsets_at(local, zone_name):
        return None
    tz = zone(zone_name)
    before = local.replace(tzinfo=tz, fold=0).utcoffset()
    after = local.replace(tzinfo=tz, fold=1).utcoffset()
    assert before is not None and after is not None
    # The change happens at an instant in (local - after, local - before]; find it to the
    # second by bisection, asking zoneinfo for the offset at each probed instant.
    low = (local - after).replace(tzinfo=UTC)
    high = (local - before).replace(tzinfo=UTC)
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    change = high.replace(tzinfo=None)
    return Gap(start=change + before, end=change + after)


def long_day(day: dt.date) -> str:
    """ "Sun 26 March 2023"."""
    return f"{day:%a} {day.day} {day:%B} {day.year}"


def offset_text(offset: dt.timedelta) -> str:
    """ "+02:00", "-03:00", "+05:30"."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


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
        return self.start_local.astimezone(UTC) if self.start_local else None

    @property
    def end_utc(self) -> dt.datetime | None:
        """The derived UTC end instant, or None."""
        return self.end_local.astimezone(UTC) if self.end_local else None

    @property
    def wall_is_ambiguous(self) -> bool:
        """Whether the start or end wall time cannot name its instant on its own (it happens
        twice, or, for data stored before the gap rule, not at all)."""
        return any(
            value is not None and len(offsets_at(value.replace(tzinfo=None), self.zone)) != 1
            for value in (self.start_local, self.end_local)
        )


def times_of(
    day: dt.date | None,
    time: dt.time | None,
    duration_minutes: int | None,
    zone_name: str,
    fold: int = 0,
) -> SessionTime:
    """Derive local and UTC times from stored wall-time values and the circuit zone."""
    if day is None or time is None:
        return SessionTime(day, None, None, zone_name)
    start = localize(dt.datetime.combine(day, time), zone_name, fold)
    end = None
    if duration_minutes:
        # Add in UTC, then convert back: a session across a DST change keeps its real length,
        # and an end in a repeated hour gets the fold of the instant it really is.
        end = (start.astimezone(UTC) + dt.timedelta(minutes=duration_minutes)).astimezone(
            zone(zone_name)
        )
    return SessionTime(day, _normal(start), end, zone_name)


def _normal(value: dt.datetime) -> dt.datetime:
    # Read a stored gap time back as the instant it means, so its wall clock is a real one.
    return value.astimezone(UTC).astimezone(value.tzinfo)


def session_time(session: Session) -> SessionTime:
    """Derive a session's local and UTC times from its stored wall time and circuit zone."""
    return times_of(
        session.local_date,
        session.local_time,
        session.duration_minutes,
        session.round.circuit.timezone,
        session.fold or 0,
    )


def describe_local(st: SessionTime) -> str:
    """A human line such as "Sat 3 June 14:00 CEST", "Sat 3 June, time TBC" or "date TBC"."""
    if st.date is None:
        return "date and time TBC"
    day = f"{st.date:%a} {st.date.day} {st.date:%B}"
    if st.start_local is None:
        return f"{day}, {TIME_TBC}"
    text = f"{day} {st.start_local:%H:%M %Z}"
    if is_ambiguous(st.start_local.replace(tzinfo=None), st.zone):
        # The clock time happens twice that night: say which one, and where.
        which = "second" if st.start_local.fold else "first"
        offset = st.start_local.utcoffset()
        assert offset is not None
        text += (
            f" (UTC{offset_text(offset)}, the {which} {st.start_local:%H:%M} of the night"
            f" in {st.zone})"
        )
    return text
