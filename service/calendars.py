"""The iCal renderer: championships, rounds and sessions in, ``text/calendar`` bytes out.

Pure functions of domain objects (no HTTP, no database). ``session_facts`` is the one place
that decides how a session becomes a VEVENT; ``round_facts`` does the same for a round's
all-day "weekend" event. Facts are plain, hashable values, so a rendered VEVENT can be cached
under its facts: after a one-session change only that session's fragment is rendered again,
and every other fragment is reused byte for byte.

icalendar does the escaping, folding and value encoding of every event and of the calendar
envelope; we only join its output. Two of its rough edges are wrapped here, once:

- ``Calendar.add`` leaves NAME, X-WR-CALNAME and X-WR-CALDESC unescaped (7.3) and fails on a
  newline in them, so calendar text properties are added as explicit ``vText``.
- ``Timezone.from_tzinfo`` writes one observance per transition without RRULE, which Outlook
  ignores; ``vtimezones.vtimezone`` writes one STANDARD and one DAYLIGHT block with RRULE.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from icalendar import Alarm, Calendar, Event
from icalendar.parser import Contentline
from icalendar.prop import vCategory, vDDDTypes, vDuration, vGeo, vInt, vText, vUri

from .models import SESSION_KINDS, Championship, Competitor, Result, Round, Session
from .timing import TIME_TBC, SessionTime, describe_local, session_time
from .vtimezones import vtimezone

PRODID = "-//gridfeed//gridfeed calendars 1.0//EN"
WEEKEND = "weekend"
# Every value `include=`/`exclude=` accept: the session kinds plus the round's all-day event.
SELECTABLE_KINDS = (*SESSION_KINDS, WEEKEND)
KIND_LABELS = {
    "practice": "Practice",
    "qualifying": "Qualifying",
    "race": "Race",
    "test": "Test",
    "other": "Other",
    WEEKEND: "Weekend",
}
# How many classified lines a championship feed shows in a session's description.
TOP_OF_ORDER = 10
FRAGMENTS_EXTENSION = "gridfeed.calendar_fragments"


# -- options and settings --------------------------------------------------------------


@dataclass(frozen=True)
class CalendarOptions:
    """What a subscriber asked for. ``include`` None means every kind, present and future."""

    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    alarms: tuple[int, ...] = ()
    utc: bool = False

    def selects(self, kind: str) -> bool:
        """Whether events of ``kind`` (a session kind or ``weekend``) are in the feed."""
        if kind in self.exclude:
            return False
        return self.include is None or kind in self.include


@dataclass(frozen=True)
class FeedSettings:
    """Deployment settings a calendar depends on."""

    domain: str
    base_url: str
    refresh_minutes: int = 60


@dataclass(frozen=True)
class CalendarMeta:
    """The calendar's own properties."""

    name: str
    description: str
    source_url: str | None = None


# -- facts: what each event says, as plain hashable values ------------------------------


@dataclass(frozen=True)
class EventFacts:
    """Everything one VEVENT says. Equal facts always render to the same bytes."""

    uid: str
    sequence: int
    stamp: dt.datetime
    summary: str
    description: str
    status: str
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None
    location: str | None = None
    geo: tuple[float, float] | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()
    alarms: tuple[int, ...] = ()
    # The zone of a timed start ("UTC" with tz=utc), so facts that differ only in how the same
    # instant is written never share a cache entry.
    tzid: str | None = None


def event_uid(settings: FeedSettings, *parts: object) -> str:
    """A permanent UID from public identifiers: ``gt4-european-series-2023.2.race-1@domain``."""
    return ".".join(str(p) for p in parts) + "@" + settings.domain


def round_url(settings: FeedSettings, round_: Round) -> str:
    """The absolute URL of a round's page."""
    return f"{settings.base_url}/championships/{round_.championship.slug}/rounds/{round_.number}"


def short_title(championship: Championship) -> str:
    """The championship's short name for summaries, falling back to its name."""
    return championship.short_name or championship.name


def location_of(round_: Round) -> str:
    """ "Circuit Paul Ricard, Le Castellet, FR"."""
    circuit = round_.circuit
    return ", ".join(p for p in (circuit.name, circuit.locality, circuit.country_code) if p)


def geo_of(round_: Round) -> tuple[float, float] | None:
    """The circuit's coordinates, when known."""
    circuit = round_.circuit
    if circuit.latitude is None or circuit.longitude is None:
        return None
    return (circuit.latitude, circuit.longitude)


def status_word(status: str) -> str:
    """The word put in front of a cancelled or postponed event's summary ("" otherwise)."""
    return f"{status.upper()}: " if status in ("cancelled", "postponed") else ""


def session_facts(
    session: Session,
    options: CalendarOptions,
    settings: FeedSettings,
    competitor: Competitor | None = None,
) -> EventFacts | None:
    """How a session becomes a VEVENT. None when its day is unknown (it is then listed only
    in the round's description).

    Timed sessions start at the circuit's local time with its zone (or in UTC with
    ``tz=utc``); a session with a day but no time is an all-day TENTATIVE entry marked
    "(time TBC)". Cancelled and postponed sessions stay, as CANCELLED.
    """
    st = session_time(session)
    if st.date is None:
        return None
    round_ = session.round
    championship = round_.championship
    summary = f"{short_title(championship)}: {session.name} – {round_.display_name}"
    if not st.timed:
        summary += f" ({tbc_text(session)})"
    if round_.status == "provisional":
        summary += " (provisional)"
    summary = status_word(session.status) + summary
    if session.status in ("cancelled", "postponed"):
        status = "CANCELLED"
    elif not st.timed or round_.status == "provisional":
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None
    if st.timed:
        start, end = (st.start_utc, st.end_utc) if options.utc else (st.start_local, st.end_local)
    else:
        start, end = st.date, st.date + dt.timedelta(days=1)
    lines = [
        f"{championship.name}, round {round_.number}: {round_.display_name}",
        f"{session.name}: {session_when(session, st)}",
    ]
    if session.status != "scheduled":
        lines.append(f"Status: {session.status}")
    lines.extend(results_lines(session, competitor))
    lines.append(round_url(settings, round_))
    return EventFacts(
        uid=event_uid(settings, championship.slug, round_.number, session.slug),
        sequence=session.revision,
        stamp=session.updated_at,
        summary=summary,
        description="\n".join(lines),
        status=status,
        start=start,
        end=end,
        location=location_of(round_),
        geo=geo_of(round_),
        url=round_url(settings, round_),
        categories=(championship.name, KIND_LABELS.get(session.kind, session.kind)),
        alarms=options.alarms if st.timed else (),
        tzid=("UTC" if options.utc else st.zone) if st.timed else None,
    )


def tbc_text(session: Session) -> str:
    """ "time TBC", or "time TBC, morning" when the organiser said when roughly."""
    return f"{TIME_TBC}, {session.time_note}" if session.time_note else TIME_TBC


def session_when(session: Session, st: SessionTime) -> str:
    """The session's local day and time as a line of text, with the rough time if known."""
    text = describe_local(st)
    if st.date is not None and not st.timed and session.time_note:
        text += f" ({session.time_note})"
    return text


def results_lines(session: Session, competitor: Competitor | None) -> list[str]:
    """The results part of a session's description: the competitor's own result first (in a
    competitor feed), then the top of the order."""
    if session.results_status == "withdrawn":
        return ["Results withdrawn."]
    if session.results_status != "published" or not session.results:
        return []
    lines: list[str] = []
    if competitor is not None:
        own = [r for r in session.results if competitor in r.credited]
        lines.extend(f"{session.name}: {result_text(r)}" for r in own)
    ordered = sorted(session.results, key=_order_key)[:TOP_OF_ORDER]
    lines.append("Results:")
    lines.extend(f"{_place(r)} {_who(r)}" + (f" ({r.note})" if r.note else "") for r in ordered)
    if session.results_note:
        lines.append(session.results_note)
    return lines


def result_text(result: Result) -> str:
    """ "P7", "DNF, retired on lap 1 ...": one result, as a fan says it."""
    head = f"P{result.position}" if result.outcome == "classified" else result.outcome
    if result.position and result.outcome != "classified":
        head += f" (P{result.position})"
    if not result.note:
        return head
    return f"{head}, {result.note[:1].lower()}{result.note[1:]}"


def _order_key(result: Result) -> tuple[int, int]:
    return (0, result.position) if result.position else (1, result.id or 0)


def _place(result: Result) -> str:
    return f"{result.position}." if result.position else f"{result.outcome}:"


def _who(result: Result) -> str:
    names = " / ".join(c.name for c in result.credited)
    entry = result.entry
    car = ", ".join(p for p in (entry.team.name if entry.team else None, entry.car) if p)
    return f"{names} ({car})" if car else names


def round_facts(round_: Round, settings: FeedSettings) -> EventFacts:
    """How a round becomes its all-day multi-day VEVENT (DTEND exclusive), listing sessions."""
    championship = round_.championship
    summary = f"{short_title(championship)}: Round {round_.number} – {round_.display_name}"
    if round_.status == "provisional":
        summary += " (provisional)"
    summary = status_word(round_.status) + summary
    status = {"provisional": "TENTATIVE", "cancelled": "CANCELLED", "postponed": "CANCELLED"}
    lines = [f"{championship.name}, round {round_.number}", location_of(round_)]
    if round_.status != "scheduled":
        lines.append(f"Status: {round_.status}")
    if round_.sessions:
        lines.append("Sessions (local time):")
        for s in round_.sessions:
            cancelled = f" [{s.status}]" if s.status != "scheduled" else ""
            lines.append(f"- {s.name}: {session_when(s, session_time(s))}{cancelled}")
    if round_.note:
        lines.append(round_.note)
    lines.append(round_url(settings, round_))
    stamps = [round_.updated_at, *(s.updated_at for s in round_.sessions)]
    return EventFacts(
        uid=event_uid(settings, championship.slug, round_.number),
        sequence=round_.revision,
        stamp=max(stamps),
        summary=summary,
        description="\n".join(lines),
        status=status.get(round_.status, "CONFIRMED"),
        start=round_.start_date,
        end=round_.end_date + dt.timedelta(days=1),
        location=location_of(round_),
        geo=geo_of(round_),
        url=round_url(settings, round_),
        categories=(championship.name, KIND_LABELS[WEEKEND]),
    )


def feed_facts(
    rounds: Iterable[Round],
    options: CalendarOptions,
    settings: FeedSettings,
    competitor: Competitor | None = None,
) -> list[EventFacts]:
    """The facts of every event the options select, in round and session order."""
    facts: list[EventFacts] = []
    for round_ in rounds:
        if options.selects(WEEKEND):
            facts.append(round_facts(round_, settings))
        for session in round_.sessions:
            if options.selects(session.kind):
                made = session_facts(session, options, settings, competitor)
                if made is not None:
                    facts.append(made)
    return facts


# -- rendering -------------------------------------------------------------------------


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
    props.append(("SUMMARY", vText(facts.summary)))
    props.append(("DESCRIPTION", vText(facts.description)))
    props.append(("STATUS", vText(facts.status)))
    if facts.location:
        props.append(("LOCATION", vText(facts.location)))
    if facts.geo:
        props.append(("GEO", vGeo(facts.geo)))
    if facts.url:
        props.append(("URL", vUri(facts.url)))
    if facts.categories:
        props.append(("CATEGORIES", vCategory(list(facts.categories))))
    return props


def alarm_properties(facts: EventFacts) -> list[list[tuple[str, object]]]:
    """One DISPLAY alarm per requested lead time."""
    return [
        [
            ("ACTION", vText("DISPLAY")),
            ("TRIGGER", vDuration(dt.timedelta(minutes=-minutes))),
            ("DESCRIPTION", vText(facts.summary)),
        ]
        for minutes in facts.alarms
    ]


def event_ical(facts: EventFacts) -> bytes:
    """One VEVENT as bytes. Each value is encoded and escaped by its icalendar type and each
    line folded by icalendar; only the component tree is skipped, which halves the time."""
    lines = [b"BEGIN:VEVENT\r\n"]
    lines.extend(_content_line(name, value) for name, value in event_properties(facts))
    for alarm in alarm_properties(facts):
        lines.append(b"BEGIN:VALARM\r\n")
        lines.extend(_content_line(name, value) for name, value in alarm)
        lines.append(b"END:VALARM\r\n")
    lines.append(b"END:VEVENT\r\n")
    return b"".join(lines)


def _content_line(name: str, value: Any) -> bytes:
    line = Contentline.from_parts(name, value.params, value, sorted=True)
    raw = line.encode("utf-8")
    # icalendar folds only lines of 75 octets or more; shorter lines are already final.
    return (raw if len(raw) < 75 else line.to_ical()) + b"\r\n"


class FragmentCache:
    """Rendered VEVENT and VTIMEZONE bytes (LRU, thread-safe). One per app, in
    ``app.extensions``.

    Keys hold everything a fragment depends on (revisions and change times, the names and
    place shown, the results, the options and settings), so a fragment is never stale: a
    change gives a new key, and the old fragment ages out.
    """

    def __init__(self, max_items: int = 100_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def many(self, wanted: list[tuple[Hashable, Callable[[], bytes]]]) -> list[bytes]:
        """The fragment of each ``(key, make)``, calling ``make()`` only for missing keys."""
        with self._lock:
            found = [self._items.get(key) for key, _ in wanted]
        made: dict[Hashable, bytes] = {}
        for (key, make), value in zip(wanted, found, strict=True):
            if value is None and key not in made:
                made[key] = make()
        with self._lock:
            self.misses += len(made)
            self.hits += len(wanted) - len(made)
            self._items.update(made)
            for key, _ in wanted:
                self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return [v if v is not None else made[k] for (k, _), v in zip(wanted, found, strict=True)]

    def clear(self) -> None:
        """Forget every fragment."""
        with self._lock:
            self._items.clear()


def calendar_envelope(meta: CalendarMeta, settings: FeedSettings) -> Calendar:
    """The VCALENDAR with its own properties and no components."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # Explicit vText: icalendar 7.3 would write these three unescaped (see module docstring).
    cal.add("name", vText(meta.name))
    cal.add("x-wr-calname", vText(meta.name))
    cal.add("x-wr-caldesc", vText(meta.description))
    refresh = dt.timedelta(minutes=settings.refresh_minutes)
    cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(refresh))
    if meta.source_url:
        cal.add("source", meta.source_url, parameters={"VALUE": "URI"})
    return cal


def render_calendar(
    meta: CalendarMeta,
    rounds: Iterable[Round],
    options: CalendarOptions,
    settings: FeedSettings,
    competitor: Competitor | None = None,
    fragments: FragmentCache | None = None,
) -> bytes:
    """The whole calendar as bytes: envelope, one VTIMEZONE per zone used, then the events.

    Each event's bytes come from ``fragments`` when its key is there, so after a one-session
    change only that session (and its round's all-day event) is rendered again.
    """
    cache = fragments if fragments is not None else FragmentCache(max_items=0)
    wanted: list[tuple[Hashable, Callable[[], bytes]]] = []
    years: dict[str, set[int]] = {}
    who = competitor.slug if competitor is not None else None
    for round_ in rounds:
        context = _round_key(round_, settings)
        if options.selects(WEEKEND):
            siblings = tuple((s.slug, s.revision, s.updated_at) for s in round_.sessions)
            wanted.append((("round", context, siblings), partial(_round_ical, round_, settings)))
        for session in round_.sessions:
            if session.local_date is None or not options.selects(session.kind):
                continue
            if session.local_time is not None and not options.utc:
                years.setdefault(round_.circuit.timezone, set()).add(session.local_date.year)
            key = (
                "session",
                context,
                session.slug,
                session.revision,
                session.updated_at,
                _results_key(session),
                who,
                options.alarms,
                options.utc,
            )
            make = partial(_session_ical, session, options, settings, competitor)
            wanted.append((key, make))
    events = cache.many(wanted)
    timezones = cache.many(
        [
            (("vtimezone", z, min(y), max(y)), partial(_vtimezone_ical, z, min(y), max(y)))
            for z, y in sorted(years.items())
        ]
    )
    head = calendar_envelope(meta, settings).to_ical()
    end = b"END:VCALENDAR\r\n"
    return b"".join([head[: -len(end)], *timezones, *events, end])


def _round_key(round_: Round, settings: FeedSettings) -> tuple[object, ...]:
    """What a round's events show of the round, championship and circuit."""
    championship, circuit = round_.championship, round_.circuit
    return (
        settings,
        championship.slug,
        championship.name,
        championship.short_name,
        round_.number,
        round_.revision,
        round_.updated_at,
        round_.name,
        round_.status,
        round_.note,
        round_.start_date,
        round_.end_date,
        circuit.slug,
        circuit.name,
        circuit.locality,
        circuit.country_code,
        circuit.timezone,
        circuit.latitude,
        circuit.longitude,
    )


def _results_key(session: Session) -> tuple[object, ...]:
    """What a session's description shows of its results."""
    if session.results_status == "none":
        return ()
    return (
        session.results_status,
        session.results_note,
        tuple(
            (
                r.id,
                r.position,
                r.outcome,
                r.note,
                tuple(c.slug for c in r.credited),
                tuple(c.name for c in r.credited),
                r.entry.team.name if r.entry.team else None,
                r.entry.car,
            )
            for r in session.results
        ),
    )


def _session_ical(
    session: Session,
    options: CalendarOptions,
    settings: FeedSettings,
    competitor: Competitor | None,
) -> bytes:
    facts = session_facts(session, options, settings, competitor)
    assert facts is not None  # sessions without a day are skipped before this
    return event_ical(facts)


def _round_ical(round_: Round, settings: FeedSettings) -> bytes:
    return event_ical(round_facts(round_, settings))


def last_modified(rounds: Iterable[Round]) -> dt.datetime | None:
    """The latest change time of any round or session in ``rounds``."""
    stamps = [r.updated_at for r in rounds] + [s.updated_at for r in rounds for s in r.sessions]
    return max(stamps, default=None)


def _vtimezone_ical(zone_name: str, first_year: int, last_year: int) -> bytes:
    return vtimezone(zone_name, first_year, last_year).to_ical()
