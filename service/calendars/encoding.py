"""Facts to iCal bytes: content lines encoded, escaped and folded by icalendar.

Two of icalendar's rough edges are wrapped here, once:

- ``Calendar.add`` leaves NAME, X-WR-CALNAME and X-WR-CALDESC unescaped (7.3) and fails on a
  newline in them, so calendar text properties are added as explicit ``vText``.
- Every text value passes through ``domain.text.xml_safe``: control characters are not
  allowed in iCal TEXT either, and the store's text rule is not the only way in.
- ``Timezone.from_tzinfo`` writes one observance per transition without RRULE, which Outlook
  ignores; ``vtimezones.vtimezone`` writes one STANDARD and one DAYLIGHT block with RRULE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import lru_cache
from typing import Any

from icalendar import Alarm, Calendar, Event
from icalendar.parser import Contentline
from icalendar.prop import vCategory, vDDDTypes, vDuration, vGeo, vInt, vText, vUri

from ..domain.site import Site
from ..domain.text import xml_safe
from .facts import PRODID, CalendarMeta, EventFacts


def event_component(facts: EventFacts) -> Event:
    """One VEVENT as an icalendar component: the plain way, used for reference and tests."""
    event = Event()
    for name, value in event_properties(facts):
        event.add(name, value)
    for alarm in alarm_properties(facts):
        component = Alarm()
        for name, value in alarm:
            component.add(name, value)
        event.add_component(component)
    return event


def event_properties(facts: EventFacts) -> list[tuple[str, object]]:
    """The properties of an event, as icalendar value types, in output order."""
    props: list[tuple[str, object]] = [
        ("UID", vText(facts.uid)),
        ("DTSTAMP", vDDDTypes(facts.stamp)),
        ("LAST-MODIFIED", vDDDTypes(facts.stamp)),
        ("SEQUENCE", vInt(facts.sequence)),
        ("DTSTART", vDDDTypes(facts.start)),
    ]
    if facts.end is not None:
        props.append(("DTEND", vDDDTypes(facts.end)))
    if facts.tzid is None:
        props.append(("TRANSP", vText("TRANSPARENT")))  # all-day entries do not block the day
    props.append(("SUMMARY", vText(xml_safe(facts.summary))))
    props.append(("DESCRIPTION", vText(xml_safe(facts.description))))
    props.append(("STATUS", vText(facts.status)))
    if facts.location:
        props.append(("LOCATION", vText(xml_safe(facts.location))))
    if facts.geo:
        props.append(("GEO", vGeo(facts.geo)))
    if facts.url:
        props.append(("URL", vUri(facts.url)))
    if facts.categories:
        props.append(("CATEGORIES", vCategory([xml_safe(c) for c in facts.categories])))
    return props


def alarm_properties(facts: EventFacts) -> list[list[tuple[str, object]]]:
    """One DISPLAY alarm per requested lead time."""
    return [
        [
            ("ACTION", vText("DISPLAY")),
            ("TRIGGER", vDuration(dt.timedelta(minutes=-minutes))),
            ("DESCRIPTION", vText(xml_safe(facts.summary))),
        ]
        for minutes in facts.alarms
    ]


def event_ical(facts: EventFacts) -> bytes:
    """One VEVENT as bytes. Each value is encoded and escaped by its icalendar type and each
    line folded by icalendar; only the component tree is skipped, which halves the time."""
    lines = [b"BEGIN:VEVENT\r\n"]
    lines.extend(_content_line(name, value) for name, value in event_properties(facts))
    if facts.alarms:
        description = alarm_description_line(facts)
        lines.extend(valarm_ical(minutes, description) for minutes in facts.alarms)
    lines.append(b"END:VEVENT\r\n")
    return b"".join(lines)


def event_ical_in_utc(local: EventFacts, local_bytes: bytes, utc: EventFacts) -> bytes:
    """``event_ical(utc)`` for facts that differ from ``local`` only in how the start and end
    are written (``tz=utc``), made by swapping the DTSTART and DTEND lines of ``local_bytes``:
    encoding a whole event twice for every session would double a full publication."""
    if replace(local, start=utc.start, end=utc.end, tzid=utc.tzid) != utc:
        return event_ical(utc)
    swapped = local_bytes
    for name, old, new in (("DTSTART", local.start, utc.start), ("DTEND", local.end, utc.end)):
        if old is None or new is None:
            return event_ical(utc)
        before = b"\r\n" + _content_line(name, vDDDTypes(old))
        after = b"\r\n" + _content_line(name, vDDDTypes(new))
        if swapped.count(before) != 1:
            return event_ical(utc)
        swapped = swapped.replace(before, after)
    return swapped


def alarm_description_line(facts: EventFacts) -> bytes:
    """The DESCRIPTION line of an event's alarms (its summary), encoded and folded."""
    return _content_line("DESCRIPTION", vText(xml_safe(facts.summary)))


def valarm_ical(minutes: int, description_line: bytes) -> bytes:
    """One DISPLAY alarm ``minutes`` before the start, as ``alarm_properties`` describes it."""
    return _alarm_head(minutes) + description_line + b"END:VALARM\r\n"


@lru_cache(maxsize=64)
def _alarm_head(minutes: int) -> bytes:
    # The same for every event: encoded once, not once per event of a large variant.
    trigger = vDuration(dt.timedelta(minutes=-minutes))
    return b"".join(
        [
            b"BEGIN:VALARM\r\n",
            _content_line("ACTION", vText("DISPLAY")),
            _content_line("TRIGGER", trigger),
        ]
    )


def _content_line(name: str, value: Any) -> bytes:
    line = Contentline.from_parts(name, value.params, value, sorted=True)
    raw = line.encode("utf-8")
    # icalendar folds only lines of 75 octets or more; shorter lines are already final.
    return (raw if len(raw) < 75 else line.to_ical()) + b"\r\n"


def calendar_envelope(meta: CalendarMeta, settings: Site) -> Calendar:
    """The VCALENDAR with its own properties and no components."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # Explicit vText: icalendar 7.3 would write these three unescaped (see module docstring).
    cal.add("name", vText(xml_safe(meta.name)))
    cal.add("x-wr-calname", vText(xml_safe(meta.name)))
    cal.add("x-wr-caldesc", vText(xml_safe(meta.description)))
    refresh = dt.timedelta(minutes=settings.refresh_minutes)
    cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(refresh))
    if meta.source_url:
        cal.add("source", meta.source_url, parameters={"VALUE": "URI"})
    return cal
