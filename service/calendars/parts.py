"""A calendar as a concatenation of per-round parts, so any feed and any variant of it is
built by joining stored bytes.

A round's *part* is the encoded events of one round as every feed shows them (its all-day
"weekend" event, then each dated session), each with what a variant needs to be built
without the domain model: its kind (for ``include``/``exclude``), its bytes in the circuit's
zone and in UTC (``tz=utc``), its alarm text (``alarm=``) and the UTC span its zone must be
true for (the VTIMEZONEs). ``compose`` joins parts under a calendar's envelope; it gives
exactly the bytes ``render.render_calendar`` gives for the same rounds and options (a test
checks every option against it).

Parts are pure values: ``round_part`` makes one from a loaded round; ``encode_part`` and
``decode_part`` turn it into bytes to store and back.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, partial

from ..domain.models import Competitor, Round
from ..domain.site import Site
from .encoding import (
    alarm_description_line,
    calendar_envelope,
    event_ical,
    event_ical_in_utc,
    valarm_ical,
)
from .facts import WEEKEND, CalendarMeta, CalendarOptions, EventFacts, round_facts, session_facts
from .fragments import FragmentCache
from .vtimezones import vtimezone_ical

DEFAULT_OPTIONS = CalendarOptions()
UTC_OPTIONS = CalendarOptions(utc=True)
END_EVENT = b"END:VEVENT\r\n"
END_CALENDAR = b"END:VCALENDAR\r\n"
# Stored parts are compressed once when a round changes and read by every variant request.
COMPRESS_LEVEL = 6


@dataclass(frozen=True)
class EventPart:
    """One event of a round, encoded, with what a variant of a feed needs to change it."""

    kind: str  # a session kind, or "weekend" for the round's all-day event
    local: bytes  # the VEVENT as a feed without options shows it
    utc: bytes | None  # the VEVENT with tz=utc, where that differs
    alarm_text: bytes | None  # the alarms' DESCRIPTION line; None where no alarm goes
    tzid: str | None  # the zone of a timed start (None all-day, "UTC" where written in UTC)
    first: dt.datetime | None = None  # the UTC instants the zone's VTIMEZONE must cover
    last: dt.datetime | None = None


@dataclass(frozen=True)
class RoundPart:
    """A round's events in feed order, with what joining them without options needs."""

    events: tuple[EventPart, ...]

    @cached_property
    def local_block(self) -> bytes:
        """Every event as a feed without options shows it, joined."""
        return b"".join(event.local for event in self.events)

    @cached_property
    def spans(self) -> dict[str, tuple[dt.datetime, dt.datetime]]:
        """For each zone a local start names, the UTC instants its VTIMEZONE must cover."""
        spans: dict[str, tuple[dt.datetime, dt.datetime]] = {}
        for event in self.events:
            if event.first is not None and event.last is not None:
                assert event.tzid is not None
                _widen(spans, event.tzid, event.first, event.last)
        return spans


def _widen(
    spans: dict[str, tuple[dt.datetime, dt.datetime]],
    zone: str,
    low: dt.datetime,
    high: dt.datetime,
) -> None:
    if zone in spans:
        low, high = min(low, spans[zone][0]), max(high, spans[zone][1])
    spans[zone] = (low, high)


def _event_part(kind: str, local: EventFacts, utc: EventFacts | None) -> EventPart:
    local_bytes = event_ical(local)
    utc_bytes = None
    if utc is not None and utc != local:
        utc_bytes = event_ical_in_utc(local, local_bytes, utc)
    first = last = None
    if local.tzid is not None and local.tzid != "UTC":
        assert isinstance(local.start, dt.datetime)
        first = local.start.astimezone(dt.UTC)
        last = local.end.astimezone(dt.UTC) if isinstance(local.end, dt.datetime) else first
    alarm_text = alarm_description_line(local) if local.tzid is not None else None
    return EventPart(kind, local_bytes, utc_bytes, alarm_text, local.tzid, first, last)


def round_part(round_: Round, settings: Site, competitor: Competitor | None = None) -> RoundPart:
    """Every event of ``round_`` in feed order (weekend first, then each dated session), as a
    feed about ``competitor`` (or about no one) shows them."""
    events = [_event_part(WEEKEND, round_facts(round_, settings), None)]
    for session in round_.sessions:
        local = session_facts(session, DEFAULT_OPTIONS, settings, competitor)
        if local is None:
            continue  # no day yet: listed only in the round's description
        utc = session_facts(session, UTC_OPTIONS, settings, competitor)
        events.append(_event_part(session.kind, local, utc))
    return RoundPart(tuple(events))


def compose(
    meta: CalendarMeta,
    settings: Site,
    parts: Iterable[RoundPart],
    options: CalendarOptions,
    fragments: FragmentCache | None = None,
) -> bytes:
    """The calendar of the rounds whose ``parts`` are given (in order), as ``options`` ask:
    envelope, one VTIMEZONE per zone the chosen events use, then the events."""
    cache = fragments if fragments is not None else FragmentCache(max_items=0)
    events: list[bytes] = []
    spans: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    for part in parts:
        if options == DEFAULT_OPTIONS:  # the published default: whole blocks, no event loop
            events.append(part.local_block)
            for zone, (low, high) in part.spans.items():
                _widen(spans, zone, low, high)
            continue
        for event in part.events:
            if not options.selects(event.kind):
                continue
            body = event.utc if options.utc and event.utc is not None else event.local
            if options.alarms and event.alarm_text is not None:
                alarms = b"".join(valarm_ical(m, event.alarm_text) for m in options.alarms)
                body = body[: -len(END_EVENT)] + alarms + END_EVENT
            events.append(body)
            if not options.utc and event.first is not None and event.last is not None:
                assert event.tzid is not None
                _widen(spans, event.tzid, event.first, event.last)
    timezones = cache.many(
        [
            (("vtimezone", zone, span), partial(vtimezone_ical, zone, *span))
            for zone, span in sorted(spans.items())
        ]
    )
    head = calendar_envelope(meta, settings).to_ical()
    return b"".join([head[: -len(END_CALENDAR)], *timezones, *events, END_CALENDAR])


# -- storing parts -------------------------------------------------------------------------


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8") if value is not None else None


def _bytes(value: str | None) -> bytes | None:
    return value.encode("utf-8") if value is not None else None


def _instant(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value is not None else None


def encode_part(part: RoundPart) -> bytes:
    """A round part as compact bytes to store (JSON, compressed)."""
    rows = [
        [
            e.kind,
            _text(e.local),
            _text(e.utc),
            _text(e.alarm_text),
            e.tzid,
            _instant(e.first),
            _instant(e.last),
        ]
        for e in part.events
    ]
    raw = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return zlib.compress(raw, COMPRESS_LEVEL)


def decode_part(data: bytes) -> RoundPart:
    """The round part ``encode_part`` stored."""
    rows = json.loads(zlib.decompress(data))
    return RoundPart(
        tuple(
            EventPart(
                kind,
                local.encode("utf-8"),
                _bytes(utc),
                _bytes(alarm_text),
                tzid,
                _parse_instant(first),
                _parse_instant(last),
            )
            for kind, local, utc, alarm_text, tzid, first, last in rows
        )
    )
