"""VTIMEZONE components that Outlook understands, for the calendars.

Outlook reads one STANDARD and one DAYLIGHT observance, each with a yearly RRULE, and ignores
RDATE. icalendar's ``Timezone.from_tzinfo`` (7.3) writes one observance per transition
instead, so this module derives the yearly rule from the zone's transitions (pytz's tables)
and lets icalendar encode it.
"""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
from dataclasses import dataclass

import pytz
from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from ..domain.timing import zone


@dataclass(frozen=True)
class _Transition:
    local: dt.datetime  # wall time just before the change, in the old offset
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    dst: bool


def vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE that Outlook reads: one STANDARD and (if the zone has summer time in the
    span) one DAYLIGHT observance, each a yearly RRULE, covering ``first_year..last_year``.

    The rules are those of ``last_year``; their DTSTART goes back as far as the same rule
    held, at most to ``first_year - 1``.
    """
    tz = zone(zone_name)
    span = [t for t in _transitions(tz) if first_year - 1 <= t.local.year <= last_year]
    timezone = Timezone()
    timezone.add("tzid", zone_name)
    to_dst = [t for t in span if t.dst]
    to_std = [t for t in span if not t.dst]
    if not to_dst or not to_std:
        # No summer time in the span: one fixed offset from the start of the span.
        probe = tz.localize(dt.datetime(last_year, 7, 1))
        standard = TimezoneStandard()
        standard.add("dtstart", dt.datetime(first_year - 1, 1, 1))
        standard.add("tzoffsetfrom", probe.utcoffset())
        standard.add("tzoffsetto", probe.utcoffset())
        standard.add("tzname", probe.tzname())
        timezone.add_component(standard)
        return timezone
    for kind, changes in ((TimezoneStandard, to_std), (TimezoneDaylight, to_dst)):
        rule, since = _yearly_rule(changes)
        observance = kind()
        observance.add("dtstart", since.local)
        observance.add("tzoffsetfrom", since.offset_from)
        observance.add("tzoffsetto", since.offset_to)
        observance.add("tzname", since.name)
        observance.add("rrule", rule)
        timezone.add_component(observance)
    return timezone


def _transitions(tz: pytz.BaseTzInfo) -> list[_Transition]:
    # pytz keeps a zone's transitions as UTC instants with the (offset, dst, name) after each.
    instants = getattr(tz, "_utc_transition_times", [])
    infos = getattr(tz, "_transition_info", [])
    made = []
    for i in range(1, len(instants)):
        offset_from, offset_to = infos[i - 1][0], infos[i][0]
        if offset_from == offset_to:
            continue
        made.append(
            _Transition(
                local=instants[i] + offset_from,
                offset_from=offset_from,
                offset_to=offset_to,
                name=infos[i][2],
                dst=bool(infos[i][1]),
            )
        )
    return made


def _yearly_rule(changes: list[_Transition]) -> tuple[dict[str, object], _Transition]:
    """The yearly RRULE of the latest change, and the earliest change of the unbroken run of
    years that rule explains (its DTSTART)."""
    latest = changes[-1]
    best: tuple[int, str, _Transition] | None = None
    for byday in _byday_candidates(latest.local):
        run = 0
        for change in reversed(changes):
            if not _matches(change, latest, byday):
                break
            run += 1
        if best is None or run > best[0]:
            best = (run, byday, changes[-run])
    assert best is not None
    _, byday, since = best
    return {"freq": "yearly", "bymonth": latest.local.month, "byday": byday}, since


def _byday_candidates(local: dt.datetime) -> list[str]:
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[local.weekday()]
    nth = (local.day - 1) // 7 + 1
    days_in_month = calendar_module.monthrange(local.year, local.month)[1]
    options = [f"{nth}{weekday}"]
    if local.day + 7 > days_in_month:
        options.insert(0, f"-1{weekday}")
    return options


def _matches(change: _Transition, rule: _Transition, byday: str) -> bool:
    return (
        change.local.month == rule.local.month
        and change.local.time() == rule.local.time()
        and change.offset_to == rule.offset_to
        and byday in _byday_candidates(change.local)
    )
