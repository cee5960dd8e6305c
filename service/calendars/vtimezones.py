"""VTIMEZONE components that are true for every instant a calendar holds.

``vtimezone(zone, first, last)`` is a pure function of the zone name and the span of UTC
instants the calendar's events cover. It finds the zone's transitions by asking ``zoneinfo``
(a public API) for the UTC offset at probed instants, and writes them the way Outlook and
every other reader understands (MS-OXCICAL, RFC 5545 §3.6.5):

- one STANDARD or DAYLIGHT observance per rule period, with a yearly RRULE (BYMONTH plus
  BYDAY such as ``-1SU``, or BYMONTHDAY); a rule that stops inside the span is closed with
  ``UNTIL`` and the next rule starts with its own observance, so a zone whose rules changed
  between seasons (Brazil dropping daylight time in 2019) is right in every season;
- a change that follows no yearly rule is an observance of its own (DTSTART only), never an
  RDATE list;
- only the span: the last change at or before the first event, then every change up to the
  last event. A rule still running after the span stays open-ended (no UNTIL).
"""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from ..domain.timing import zone

UTC = dt.UTC
DAY = dt.timedelta(days=1)
# Probe stride: zones change at most a few times a year and never twice within a week (two
# changes inside one stride that cancel out would be missed; the oracle tests would see it).
STRIDE = dt.timedelta(days=7)
# How far before the first event to look for the change that set the offset in force (a
# yearly rule changes within a year). Without one, a fixed observance from the start of the
# first event's year says the same, so this bounds the probing, not the correctness.
LOOKBACK_YEARS = 1
# How far after the last event to look to see whether a rule goes on (so it may stay open).
LOOKAHEAD = dt.timedelta(days=400)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    """One change of a zone's UTC offset."""

    at: dt.datetime  # the UTC instant of the change
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str  # the abbreviation in force after it
    dst: bool  # whether daylight time is in force after it

    @property
    def local(self) -> dt.datetime:
        """The wall time of the change in the old offset (an observance's DTSTART)."""
        return (self.at + self.offset_from).replace(tzinfo=None)


def vtimezone(zone_name: str, first: dt.datetime, last: dt.datetime) -> Timezone:
    """A VTIMEZONE for ``zone_name`` that gives ``zoneinfo``'s offset at every instant from
    ``first`` to ``last`` (aware datetimes; the span of the calendar's events)."""
    first, last = first.astimezone(UTC), last.astimezone(UTC)
    changes = transitions(zone_name, first, last + LOOKAHEAD)
    before = _last_change_before(zone_name, first)
    timezone = Timezone()
    timezone.add("tzid", zone_name)
    if before is None:
        # No change in the lookback: the offset at the first event held since well before it.
        timezone.add_component(_fixed(zone_name, first))
    for run in _runs([*([before] if before else []), *changes]):
        if run[0].at > last:
            continue  # starts after the last event: nothing in the calendar needs it
        timezone.add_component(_observance(run, last))
    return timezone


def vtimezone_ical(zone_name: str, first: dt.datetime, last: dt.datetime) -> bytes:
    """``vtimezone(...)`` as iCal bytes (what the fragment cache stores)."""
    return vtimezone(zone_name, first, last).to_ical()


def transitions(zone_name: str, start: dt.datetime, end: dt.datetime) -> list[Transition]:
    """The zone's offset changes with ``start < at <= end``, oldest first."""
    found: list[Transition] = []
    for year in range(start.year, end.year + 1):
        found.extend(t for t in _year_transitions(zone_name, year) if start < t.at <= end)
    return found


@lru_cache(maxsize=4096)
def _year_transitions(zone_name: str, year: int) -> tuple[Transition, ...]:
    """The changes within one UTC year, found by probing the offset once a week and bisecting
    to the second where it differs (zoneinfo exposes offsets, not its transition table)."""
    tz = zone(zone_name)
    probe = dt.datetime(year, 1, 1, tzinfo=UTC)
    stop = dt.datetime(year + 1, 1, 1, tzinfo=UTC)
    found = []
    offset = _offset(tz, probe)
    while probe < stop:
        following = min(probe + STRIDE, stop)
        next_offset = _offset(tz, following)
        if next_offset != offset:
            at = _bisect(tz, probe, following, offset)
            after = at.astimezone(tz)
            found.append(
                Transition(
                    at=at,
                    offset_from=offset,
                    offset_to=next_offset,
                    name=after.tzname() or "",
                    dst=bool(after.dst()),
                )
            )
        probe, offset = following, next_offset
    return tuple(found)


def _offset(tz: dt.tzinfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def _bisect(tz: dt.tzinfo, low: dt.datetime, high: dt.datetime, old: dt.timedelta) -> dt.datetime:
    """The first whole second in (low, high] whose offset is no longer ``old``."""
    while high - low > dt.timedelta(seconds=1):
        middle = (low + (high - low) / 2).replace(microsecond=0)
        if _offset(tz, middle) == old:
            low = middle
        else:
            high = middle
    return high


def _last_change_before(zone_name: str, instant: dt.datetime) -> Transition | None:
    """The latest change at or before ``instant``, looking back at most LOOKBACK_YEARS."""
    for year in range(instant.year, instant.year - LOOKBACK_YEARS - 1, -1):
        earlier = [t for t in _year_transitions(zone_name, year) if t.at <= instant]
        if earlier:
            return earlier[-1]
    return None


def _fixed(zone_name: str, instant: dt.datetime) -> TimezoneStandard | TimezoneDaylight:
    """One observance holding the offset in force at ``instant`` from the start of its year."""
    local = instant.astimezone(zone(zone_name))
    offset = local.utcoffset()
    observance = TimezoneDaylight() if local.dst() else TimezoneStandard()
    observance.add("dtstart", dt.datetime(instant.year, 1, 1))
    observance.add("tzoffsetfrom", offset)
    observance.add("tzoffsetto", offset)
    observance.add("tzname", local.tzname())
    return observance


def _rule_keys(local: dt.datetime) -> set[str]:
    """The yearly rules a change on this day fits: nth weekday, last weekday, day of month."""
    weekday = _WEEKDAYS[local.weekday()]
    keys = {f"{(local.day - 1) // 7 + 1}{weekday}", f"D{local.day}"}
    if local.day + 7 > calendar_module.monthrange(local.year, local.month)[1]:
        keys.add(f"-1{weekday}")
    return keys


def _same_rule(a: Transition, b: Transition) -> bool:
    return (
        a.offset_from == b.offset_from
        and a.offset_to == b.offset_to
        and a.name == b.name
        and a.dst == b.dst
        and a.local.month == b.local.month
        and a.local.time() == b.local.time()
    )


def _runs(changes: list[Transition]) -> list[list[Transition]]:
    """Group changes into runs one yearly rule explains: the same kind of change, in the same
    month at the same wall time, in consecutive years, on a day one rule names."""
    runs: list[tuple[list[Transition], set[str]]] = []
    for change in changes:
        keys = _rule_keys(change.local)
        for run, run_keys in runs:
            tail = run[-1]
            if (
                tail.local.year + 1 == change.local.year
                and _same_rule(tail, change)
                and run_keys & keys
            ):
                run.append(change)
                run_keys &= keys
                break
        else:
            runs.append(([change], keys))
    return [run for run, _ in sorted(runs, key=lambda item: item[0][0].at)]


def _observance(run: list[Transition], last: dt.datetime) -> TimezoneStandard | TimezoneDaylight:
    """One observance for a run: DTSTART at its first change, a yearly RRULE if it has more
    than one, closed by UNTIL unless it goes on after ``last``."""
    head = run[0]
    observance = TimezoneDaylight() if head.dst else TimezoneStandard()
    observance.add("dtstart", head.local)
    observance.add("tzoffsetfrom", head.offset_from)
    observance.add("tzoffsetto", head.offset_to)
    observance.add("tzname", head.name)
    if len(run) > 1:
        keys = set.intersection(*(_rule_keys(t.local) for t in run))
        rule: dict[str, object] = {"freq": "yearly", "bymonth": head.local.month}
        # Prefer the weekday forms Outlook reads (last, then nth) over a fixed day of month.
        by_weekday = sorted(k for k in keys if not k.startswith("D"))
        if by_weekday:
            rule["byday"] = by_weekday[0]  # "-1SU" sorts first: the last weekday, when it fits
        else:
            rule["bymonthday"] = head.local.day
        if run[-1].at <= last:
            # A day after the last change, not at it: dateutil (behind vobject and icalendar's
            # VTIMEZONE reading) compares UNTIL with the wall time and drops a last change
            # east of UTC whose UNTIL is its exact instant. A yearly rule has no other change
            # within the day, so the rule means the same to every reader.
            rule["until"] = run[-1].at + DAY
        observance.add("rrule", rule)
    return observance
